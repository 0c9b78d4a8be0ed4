"""The producer side of the pipeline: ``Dispatcher`` and what its calls take and give back."""

from dispatcher.producer.dispatcher import Dispatcher, celery_client
from dispatcher.producer.routing import Message
from dispatcher.producer.status import MessageStatus
from dispatcher.producer.templates import MessageTemplate

__all__ = ["Dispatcher", "Message", "MessageStatus", "MessageTemplate", "celery_client"]
