"""Provider adapters: the only code that speaks HTTP to a provider (docs/architecture.md)."""
