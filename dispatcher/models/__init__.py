"""Channel models: one pydantic model per provider channel, each enforcing the provider's rules."""
