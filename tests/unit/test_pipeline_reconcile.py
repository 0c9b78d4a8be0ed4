"""Matching what a Revicom request created to our messages after a lost response."""

from __future__ import annotations

import orjson

from dispatcher.pipeline.reconcile import match_created, revicom_key
from dispatcher.providers.outcomes import Submitted
from dispatcher.providers.revicom import RemoteMessage


def _remote(uuid: str, destination: str, channel: str = "SMS", sender: str = "Shop") -> RemoteMessage:
    return RemoteMessage(
        message_uuid=uuid, status="pending", channel_type=channel, destination=destination, sender_name=sender
    )


def test_created_messages_are_matched_by_destination_channel_and_sender() -> None:
    ours = [
        ("a", ("79160000001", "SMS", "Shop")),
        ("b", ("79160000002", "SMS", "Shop")),
        ("c", ("79160000003", "SMS", "Shop")),
    ]
    created = [_remote("u2", "79160000002"), _remote("u1", "79160000001"), _remote("ux", "79160000003", "VK")]

    found, missing = match_created(ours, created)

    assert found == [("a", Submitted("u1")), ("b", Submitted("u2"))]
    assert missing == ["c"]


def test_each_created_message_pairs_once_when_ours_repeat_a_destination() -> None:
    key = ("79160000001", "SMS", "Shop")
    found, missing = match_created([("a", key), ("b", key)], [_remote("u1", "79160000001")])
    assert found == [("a", Submitted("u1"))]
    assert missing == ["b"]


def test_the_key_comes_from_the_stored_wire_item() -> None:
    wire = orjson.dumps(
        {"channelType": "SMS", "senderName": "Shop", "destination": "79160000001", "content": "hi"}
    )
    assert revicom_key(wire) == ("79160000001", "SMS", "Shop")
