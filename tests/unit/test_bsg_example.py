"""The request example of BSG's RCS send page (from ``tests.provider_examples``) as our BSG model."""

from __future__ import annotations

from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.providers.bsg import wire_message
from tests.provider_examples import bsg_rcs_request


def test_bsg_documented_example_is_valid_and_reproduced_field_for_field() -> None:
    message = build(BsgRcs, bsg_rcs_request())

    assert wire_message(message) == bsg_rcs_request()


def test_bsg_documented_example_is_a_carousel_of_link_and_call_suggestions() -> None:
    message = build(BsgRcs, bsg_rcs_request())

    assert message.options.is_carousel
    assert message.options.cards is not None
    suggestions = message.options.cards[0].suggestions
    assert suggestions is not None
    assert [suggestion.kind for suggestion in suggestions] == ["link", "call"]
