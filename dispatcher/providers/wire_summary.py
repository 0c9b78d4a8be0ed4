"""What a stored wire item says about its message, for people: the number it goes to and the text
a subscriber reads (the SMS-like channels), read back from each provider's own item shape. Only
this module and the encoders know those shapes; a status page asks here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

#: Revicom channels whose content a subscriber reads as text (segments and encoding apply).
_REVICOM_TEXT_CHANNELS = frozenset({"SMS", "VK"})


@dataclass(frozen=True, slots=True)
class WireSummary:
    destination: str | None
    #: The SMS text (segments and encoding apply to it); None for voice codes, flash calls, RCS.
    sms_text: str | None


def summarize(provider: str, wire: bytes) -> WireSummary:
    """The summary of ``provider``'s item ``wire``; empty for an item it cannot read."""
    try:
        item: Any = orjson.loads(wire)
    except orjson.JSONDecodeError:
        return WireSummary(None, None)
    if provider == "smartswitch" and isinstance(item, list):
        fields = {str(pair[0]): pair[1] for pair in item if isinstance(pair, list) and len(pair) == 2}
        return WireSummary(_text(fields.get("destination_number")), _text(fields.get("body")))
    if not isinstance(item, dict):
        return WireSummary(None, None)
    if provider == "bsg":
        phone = item.get("phone")
        return WireSummary(_text(phone.get("number")) if isinstance(phone, dict) else None, None)
    content = item.get("content")
    text = content if item.get("channelType") in _REVICOM_TEXT_CHANNELS and isinstance(content, str) else None
    return WireSummary(_text(item.get("destination")), text)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
