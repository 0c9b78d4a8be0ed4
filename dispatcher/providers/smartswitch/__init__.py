"""Smartswitch HTTP API: send requests (``adapter``), their wire format (``request``, ``response``),
delivery receipts (``receipts``) and keeping the URL-borne credentials secret (``redaction``)."""

from dispatcher.providers.smartswitch.adapter import SmartswitchAdapter
from dispatcher.providers.smartswitch.receipts import MESSAGE_STATES, parse_receipt
from dispatcher.providers.smartswitch.request import MESSAGE_PATH, pack, query_params
from dispatcher.providers.smartswitch.response import ACCOUNT_ERROR_CODES

__all__ = [
    "ACCOUNT_ERROR_CODES",
    "MESSAGE_PATH",
    "MESSAGE_STATES",
    "SmartswitchAdapter",
    "pack",
    "parse_receipt",
    "query_params",
]
