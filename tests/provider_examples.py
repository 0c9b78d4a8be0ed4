"""The providers' documented examples, each written out once, for every test that needs one.

Wire forms are exactly as on the providers' public pages (docs/providers.md), except that dates are
moved into the valid range (by a function, since they depend on today) and placeholders such as
``"string"`` are replaced by valid values. Where tests need one of our models that produces an
example, it is built here too, next to the example it must reproduce.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from dispatcher.models.common import build
from dispatcher.models.revicom import RevicomSms, RevicomVoiceCode

# ---- Revicom --------------------------------------------------------------------------------------

REVICOM_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: When the SMS example is sent unless a test says otherwise: tomorrow at 18:00 UTC, fixed at import
#: so that every use in one session agrees.
REVICOM_SEND_AT = (datetime.now(UTC) + timedelta(days=1)).replace(hour=18, minute=0, second=0, microsecond=0)


# Revicom's "Sending SMS" page, "Request example" (its 2020 dates moved to ``send_at`` and a day later).
def revicom_sms_request(send_at: datetime = REVICOM_SEND_AT) -> dict[str, Any]:
    return {
        "channelType": "SMS",
        "senderName": "SENDER",
        "destination": "14085553911",
        "content": "Message Text",
        "localSendTime": send_at.strftime(REVICOM_TIME_FORMAT),
        "localCompletionTime": (send_at + timedelta(days=1)).strftime(REVICOM_TIME_FORMAT),
        "useLocalTime": True,
        "ttl": 43200,
        "hours": [12, 13, 14],
        "days": [1, 2],
        "shortUrl": True,
        "callbackUrl": "https://company.com/callback",
        "callbackEvents": ["sent", "delivered", "click"],
        "tags": ["tag1", "tag2"],
    }


# Revicom's "Sending VOICECODE" page, "Request example".
REVICOM_VOICECODE_REQUEST: dict[str, Any] = {
    "channelType": "VOICECODE",
    "senderName": "voicecode",
    "destination": "14085553911",
    "content": {"contentType": "text", "text": "Код авторизации от revicom: 3 4 5 6"},
    "callbackUrl": "https://company.com/callback",
    "callbackEvents": ["sent", "delivered"],
    "tags": ["tag1", "tag2"],
}

# Revicom's "Sending FLASHCALL" page, "Request example" (not among the stored pages).
REVICOM_FLASHCALL_REQUEST: dict[str, Any] = {
    "channelType": "FLASHCALL",
    "senderName": "any sender",
    "destination": "14085553911",
    "content": "1234",
    "callbackUrl": "https://company.com/callback",
    "callbackEvents": ["sent", "delivered"],
    "tags": ["tag1", "tag2"],
}

# Revicom's "Sending SMS" page, the 200 response example.
REVICOM_SEND_SUCCESS = b"""{
  "errors": false,
  "items": [
    {"messageUuid": "063474ec-a34f-4558-90c5-984395000004", "code": 201},
    {"messageUuid": "063564ec-a34f-4558-90c5-984395000005", "code": 201}
  ]
}"""


def revicom_sms_model(send_at: datetime = REVICOM_SEND_AT) -> RevicomSms:
    """Our model of the "Sending SMS" example: ``wire_message`` must give ``revicom_sms_request``."""
    example = revicom_sms_request(send_at)
    return build(
        RevicomSms,
        {
            "destination": example["destination"],
            "sender_name": example["senderName"],
            "text": example["content"],
            "local_send_time": example["localSendTime"],
            "local_completion_time": example["localCompletionTime"],
            "use_local_time": example["useLocalTime"],
            "ttl_s": example["ttl"],
            "hours": example["hours"],
            "days": example["days"],
            "short_url": example["shortUrl"],
            "callback_url": example["callbackUrl"],
            "callback_events": example["callbackEvents"],
            "tags": example["tags"],
        },
    )


def revicom_voicecode_model() -> RevicomVoiceCode:
    """Our model of the "Sending VOICECODE" example: ``wire_message`` must give the request."""
    return RevicomVoiceCode.from_code(
        destination="14085553911",
        brand="revicom",
        code="3456",
        style="spaced",
        callback_url="https://company.com/callback",
        callback_events=["sent", "delivered"],
        tags=["tag1", "tag2"],
    )


# ---- Smartswitch ----------------------------------------------------------------------------------

# Smartswitch's "HTTP API message" page, "Send message to 1 recipient", request.
SMARTSWITCH_ONE_RECIPIENT_URL = (
    "https://your.server.name/api/message?_login=LOGIN&_password=PASSWORD"
    "&destination_number=12123388100&body=test&require_dlr=1"
)
# Smartswitch's "HTTP API message" page, "Send message to 2 recipients", request.
SMARTSWITCH_TWO_RECIPIENTS_URL = (
    "https://your.server.name/api/message?_login=LOGIN&_password=PASSWORD"
    "&destination_number=12123388100&body=test&require_dlr=1"
    "&destination_number=12123388101&body=test1&require_dlr=1"
)


def smartswitch_recipient_params(url: str) -> list[tuple[str, str]]:
    """The query parameters of an example URL after ``_login`` and ``_password``, in order."""
    return [(name, value) for name, value in parse_qsl(urlsplit(url).query) if not name.startswith("_")]


# Smartswitch's "HTTP API message" page, "Send message to 1 recipient", response.
SMARTSWITCH_ONE_RECIPIENT_RESPONSE: dict[str, Any] = orjson.loads(
    '{ "data" : { "attributes" : { "destination_number" : "12123388100", "segments" : 1, "status" : "ok" },'
    ' "id" : "1561370632513", "meta" : { "request_id" : "1" }, "type" : "message" } }'
)
# Smartswitch's "HTTP API message" page, "Send message to 2 recipients", response.
SMARTSWITCH_TWO_RECIPIENTS_RESPONSE: dict[str, Any] = orjson.loads(
    '{ "data" : [ { "attributes" : { "destination_number" : "12123388100", "segments" : 1, "status" : "ok" },'
    ' "id" : "1561371433517", "meta" : { "request_id" : "1" }, "type" : "message" },'
    ' { "attributes" : { "destination_number" : "12123388101", "segments" : 1, "status" : "ok" },'
    ' "id" : "1561371433518", "meta" : { "request_id" : "2" }, "type" : "message" } ] }'
)
# Smartswitch's "HTTP API message" page, "Error", response.
SMARTSWITCH_ERROR_RESPONSE: dict[str, Any] = orjson.loads(
    '{ "errors" : [ { "code" : "authentication", "detail" : "Please check your login and password",'
    ' "title" : "Authentication error" } ] }'
)

# ---- BSG ------------------------------------------------------------------------------------------

# BSG's RCS send page, the request example ("string" placeholders replaced by valid values).
_BSG_RCS_REQUEST: dict[str, Any] = {
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


def bsg_rcs_request(reference_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """A fresh copy of the BSG RCS send page's example, with ``reference_id`` if given; top-level keys
    in ``changes`` replace its own."""
    example = copy.deepcopy(_BSG_RCS_REQUEST)
    if reference_id is not None:
        example["phone"]["reference_id"] = reference_id
    return {**example, **changes}
