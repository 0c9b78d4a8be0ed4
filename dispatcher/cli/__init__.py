"""The ``dispatcher`` command line (one module per command group)."""
