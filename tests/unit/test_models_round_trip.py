"""Valid messages of every channel model (Revicom SMS/VOICECODE/FLASHCALL/VK, Smartswitch SMS, BSG
RCS), drawn at random, survive the trip to the provider's wire format and back: serialised the
way the adapters do it, parsed back by an independent reading of the wire names.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.models.revicom import (
    RevicomMessage,
    RevicomSms,
    build_revicom_message,
)
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.phone import normalize_msisdn
from dispatcher.providers import bsg, revicom_wire
from dispatcher.providers.smartswitch.request import recipient_group
from tests.unit.model_strategies import (
    BOUNDED,
    NOW,
    bsg_messages,
    flags,
    optional,
    revicom_messages,
    visible_text,
    written_numbers,
)

#: Longer than any generated tag, so it can never be one of the message's own tags.
REQUEST_TAG = "request_tag_" + "x" * 20


# ---- Revicom: wire and back ----------------------------------------------------------------------

#: Revicom's wire names of the optional fields (Revicom's SMS and VOICECODE pages), read anew
#: here rather than taken from the module under test.
REVICOM_WIRE_NAMES = {
    "externalMessageId": "external_message_id",
    "localSendTime": "local_send_time",
    "localCompletionTime": "local_completion_time",
    "useLocalTime": "use_local_time",
    "ttl": "ttl_s",
    "hours": "hours",
    "days": "days",
    "shortUrl": "short_url",
    "callbackUrl": "callback_url",
    "callbackEvents": "callback_events",
    "tags": "tags",
}
REVICOM_REQUIRED_WIRE = {"channelType", "senderName", "destination", "content"}


def revicom_sent_item(message: RevicomMessage) -> dict[str, Any]:
    """The message's item of the request body, as the worker sends a stored wire item."""
    stored = orjson.dumps(revicom_wire.wire_message(message))
    body = revicom_wire.tagged_body([stored], REQUEST_TAG)
    # The other path (whole batch encoded at once) must send the very same bytes.
    assert body == revicom_wire.encode_batch(revicom_wire.wire_batch([message], REQUEST_TAG))
    [item] = orjson.loads(body)
    assert isinstance(item, dict)
    return item


def revicom_fields_from_wire(item: dict[str, Any]) -> dict[str, Any]:
    assert set(item) >= REVICOM_REQUIRED_WIRE
    assert set(item) <= REVICOM_REQUIRED_WIRE | set(REVICOM_WIRE_NAMES), item
    assert None not in item.values(), "unset fields are left out, never sent as null"
    channel = item["channelType"]
    fields: dict[str, Any] = {
        "channel": channel,
        "sender_name": item["senderName"],
        "destination": item["destination"],
    }
    content = item["content"]
    if channel == "VOICECODE":
        assert set(content) == {"contentType", "text"}
        assert content["contentType"] == "text"
        fields["text"] = content["text"]
    elif channel == "FLASHCALL":
        fields["code"] = content
    else:
        fields["text"] = content
    for wire_name, field in REVICOM_WIRE_NAMES.items():
        if wire_name in item:
            fields[field] = item[wire_name]
    own_tags = [tag for tag in fields.pop("tags") if tag != REQUEST_TAG]
    assert fields.get("callback_events", ["x"]), "an empty events list is never sent"
    if own_tags:
        fields["tags"] = own_tags
    return fields


@BOUNDED
@given(revicom_messages)
def test_any_valid_revicom_message_survives_the_wire_and_back(data: dict[str, Any]) -> None:
    message = build_revicom_message(data, context={"now": NOW})
    item = revicom_sent_item(message)

    assert item["destination"] == normalize_msisdn(data["destination"])
    assert item["destination"].isdigit()
    assert item["tags"][-1] == REQUEST_TAG
    again = build_revicom_message(revicom_fields_from_wire(item), context={"now": NOW})
    assert again == message


@BOUNDED
@given(written_numbers)
def test_every_way_of_writing_a_number_reaches_the_wire_as_its_e164_digits(number: tuple[str, str]) -> None:
    digits, written = number
    for model, data in (
        (RevicomSms, {"destination": written, "sender_name": "S", "text": "t"}),
        (SmartswitchSms, {"destination_number": written, "body": "t"}),
    ):
        assert build(model, data).model_dump()[next(iter(data))] == digits


# ---- Smartswitch ---------------------------------------------------------------------------------


@st.composite
def smartswitch_messages(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {"destination_number": draw(written_numbers)[1]}
    if draw(st.booleans()):
        data["stealth_ping"] = draw(flags)
    if not data.get("stealth_ping", False):
        data["body"] = draw(visible_text)
    sender = draw(st.sampled_from(["none", "name", "number"]))
    if sender == "name":
        data["source_name"] = draw(st.from_regex(r"[A-Za-z0-9]{0,10}[A-Za-z]", fullmatch=True))
    elif sender == "number":
        data["source_number"] = draw(st.from_regex(r"[0-9]{1,15}", fullmatch=True))
    data.update(
        draw(optional(require_dlr=flags, request_id=st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)))
    )
    return data


def smartswitch_fields_from_query(query: str) -> dict[str, Any]:
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), "one recipient group names each parameter once"
    fields: dict[str, Any] = dict(pairs)
    for flag in ("require_dlr", "stealth_ping"):
        if flag in fields:
            assert fields[flag] in ("0", "1")
            fields[flag] = fields[flag] == "1"
    return fields


@BOUNDED
@given(smartswitch_messages())
def test_any_valid_smartswitch_message_survives_the_query_string_and_back(data: dict[str, Any]) -> None:
    message = build(SmartswitchSms, data)
    group = recipient_group(message)
    # Stored as JSON at intake, read back by the worker, form-encoded into the URL by requests.
    stored = [(str(name), str(value)) for name, value in orjson.loads(orjson.dumps(group))]
    query = urlencode(stored)

    assert stored == group
    assert group[0] == ("destination_number", message.destination_number)
    assert build(SmartswitchSms, smartswitch_fields_from_query(query)) == message


@BOUNDED
@given(bsg_messages)
def test_any_valid_bsg_message_survives_the_json_body_and_back(data: dict[str, Any]) -> None:
    message = build(BsgRcs, data)
    body = orjson.dumps(bsg.wire_message(message))
    wire = orjson.loads(body)

    assert not _holds_none(wire), "unset fields are left out, never sent as null"
    assert wire["phone"]["number"] == message.phone.number
    assert build(BsgRcs, wire) == message


def _holds_none(value: Any) -> bool:
    if isinstance(value, dict):
        return any(item is None or _holds_none(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_none(item) for item in value)
    return False
