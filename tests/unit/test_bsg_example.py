"""The request example of bsg-rcs-send.txt, its placeholders ("string") replaced by valid values.

Other BSG tests import ``documented_example`` from here, so there is one copy of it.
"""

from __future__ import annotations

import copy
from typing import Any

from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.providers.bsg import wire_message

_DOCUMENTED_EXAMPLE: dict[str, Any] = {
    "phone": {"number": "380661231231", "reference_id": "docexample1"},
    "sender": "rcs_sender",
    "options": {
        "cards": [
            {
                "text": "This is the first card text",
                "media": {"url": "https://domain.com/image.png"},
                "suggestions": [
                    {"text": "Go to site", "url": "https://domain.com/"},
                    {"text": "Call us", "phone": "380971112233"},
                ],
            },
            {
                "text": "This is the second card text",
                "media": {"url": "https://domain.com/image2.png"},
                "suggestions": [{"text": "Go to site", "url": "https://domain.com/"}],
            },
        ]
    },
    "alternative_channel": {
        "sms": {
            "text": "Your order has shipped",
            "sender": "BSGWorld",
            "validity": 72,
            "check_stop_list": True,
        }
    },
    "callback_url": "https://example.com/bsg/callback",
    "tariff_code": 0,
    "validity_seconds": 86400,
    "add_to_contact_book": True,
    "check_stop_list": True,
}


def documented_example(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the documented request; top-level keys in ``changes`` replace its own."""
    return {**copy.deepcopy(_DOCUMENTED_EXAMPLE), **changes}


def test_bsg_documented_example_is_valid_and_reproduced_field_for_field() -> None:
    message = build(BsgRcs, documented_example())

    assert wire_message(message) == documented_example()


def test_bsg_documented_example_is_a_carousel_of_link_and_call_suggestions() -> None:
    message = build(BsgRcs, documented_example())

    assert message.options.is_carousel
    assert message.options.cards is not None
    suggestions = message.options.cards[0].suggestions
    assert suggestions is not None
    assert [suggestion.kind for suggestion in suggestions] == ["link", "call"]
