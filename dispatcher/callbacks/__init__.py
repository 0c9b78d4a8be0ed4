"""Delivery callbacks in: provider reports mapped to our states and applied (docs/pipeline.md §6)."""

from dispatcher.callbacks.service import CallbackOutcome, CallbackService
from dispatcher.callbacks.urls import callback_url

__all__ = ["CallbackOutcome", "CallbackService", "callback_url"]
