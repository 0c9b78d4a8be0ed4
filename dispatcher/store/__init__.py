"""The Redis store of the dispatch pipeline: messages, lanes, batches, retries, campaigns.

See docs/pipeline.md for the keys and flows, and ``states`` for the transition table.
"""

from dispatcher.store.intake import INTAKE_CHUNK
from dispatcher.store.records import Batch, BatchItem, LaneInfo, MessageRecord, NewMessage, Transition
from dispatcher.store.store import Store

__all__ = [
    "INTAKE_CHUNK",
    "Batch",
    "BatchItem",
    "LaneInfo",
    "MessageRecord",
    "NewMessage",
    "Store",
    "Transition",
]
