"""The dispatcher's HTTP API: provider delivery callbacks in (``dispatcher api``)."""

from dispatcher.api.app import create_app

__all__ = ["create_app"]
