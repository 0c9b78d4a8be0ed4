"""Provider adapters: the only code that speaks HTTP to a provider (DESIGN §5)."""
