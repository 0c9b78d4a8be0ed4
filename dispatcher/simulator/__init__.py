"""``dispatcher simulator``: strict stand-ins for the Revicom, Smartswitch and BSG HTTP APIs.

The simulator checks every documented provider rule on its own, from the providers' public pages
(docs/providers.md) -- it never imports the client's models, phone or segment code -- so that a
client mistake shows up as the refusal a real provider would give. It keeps every message's state,
advances it after a configurable delay, posts callbacks in each provider's format, records every
request, and injects faults on demand. See ``docs/simulator.md``.
"""
