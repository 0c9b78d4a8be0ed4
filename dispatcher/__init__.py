"""Dispatcher: SMS, voice codes and RCS through Revicom, Smartswitch and BSG, on Celery and Redis.

    from dispatcher import Dispatcher
    from dispatcher.models.revicom import RevicomSms

    with Dispatcher.from_settings() as dispatcher:
        message_id = dispatcher.send(RevicomSms(destination="+14085553911", sender_name="SHOP", text="Hi"))
        print(dispatcher.status(message_id))

The public names are imported on first use: ``dispatcher.simulator`` and the CLI live in this
package too, and must not pay for (or depend on) the producer's imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dispatcher.errors import DispatcherError, InvalidMessage, StoreError
    from dispatcher.producer import Dispatcher, Message, MessageStatus, MessageTemplate

_PUBLIC = {
    "Dispatcher": "dispatcher.producer",
    "Message": "dispatcher.producer",
    "MessageStatus": "dispatcher.producer",
    "MessageTemplate": "dispatcher.producer",
    "DispatcherError": "dispatcher.errors",
    "InvalidMessage": "dispatcher.errors",
    "StoreError": "dispatcher.errors",
}

__all__ = [
    "Dispatcher",
    "DispatcherError",
    "InvalidMessage",
    "Message",
    "MessageStatus",
    "MessageTemplate",
    "StoreError",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'dispatcher' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
