"""``POST /v1/messages`` (one message or a batch) and ``GET /v1/messages/{id}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, HTTPException, Response, params
from fastapi.openapi.models import Example
from starlette.concurrency import run_in_threadpool

from dispatcher.api.errors import REPLAYED_HEADER, error_responses
from dispatcher.api.requests import BsgRcsRequest, MessageBatch, SendBody, channel_message, sms_fallback
from dispatcher.api.responses import MessagesAccepted, MessageStatusOut
from dispatcher.producer import Dispatcher
from dispatcher.store.intake import StoredIds

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Sending again with the same key and the same body returns the first call's ids, stores "
        "nothing and answers `Idempotent-Replayed: true`; with another body it is refused (409). A batch: "
        "message i gets the key `<key>:<i>`.",
    ),
]


#: Request bodies a backend sends, as Swagger UI and ReDoc offer them.
SEND_EXAMPLES: dict[str, Example] = {
    "sms": {
        "summary": "An SMS",
        "value": {
            "type": "revicom_sms",
            "destination": "+79161234567",
            "sender_name": "SHOP",
            "text": "Order shipped",
        },
    },
    "voicecode": {
        "summary": "A voice code: brand and code (the dispatcher writes the sentence)",
        "value": {
            "type": "revicom_voicecode",
            "destination": "+79161234567",
            "brand": "Shop",
            "code": "3456",
        },
    },
    "flashcall": {
        "summary": "A flash call: the calling number ends in the code",
        "value": {
            "type": "revicom_flashcall",
            "destination": "+79161234567",
            "sender_name": "SHOP",
            "code": "3456",
        },
    },
    "rcs_with_fallback": {
        "summary": "RCS, with an SMS if it is not delivered within 5 minutes",
        "value": {
            "type": "bsg_rcs",
            "phone": {"number": "+79161234567"},
            "sender": "shop_agent",
            "options": {"text": "Your order has shipped"},
            "fallback": {"text": "Your order has shipped", "sender": "SHOP", "deadline_s": 300},
        },
    },
    "window_with_webhook": {
        "summary": "An SMS sent 9:00-20:59 the subscriber's time, its status changes POSTed to a webhook",
        "value": {
            "type": "revicom_sms",
            "destination": "+79161234567",
            "sender_name": "SHOP",
            "text": "Your table is booked for 19:00",
            "window": {"hours": list(range(9, 21))},
            "webhook_url": "https://hooks.example.com/sms-status",
        },
    },
    "batch": {
        "summary": "A batch: accepted or refused together",
        "value": {
            "priority": "bulk",
            "messages": [
                {
                    "type": "revicom_sms",
                    "destination": "+79161234567",
                    "sender_name": "SHOP",
                    "text": "Sale today",
                },
                {
                    "type": "smartswitch_sms",
                    "destination_number": "+4915112345678",
                    "source_name": "SHOP",
                    "body": "Sale today",
                },
            ],
        },
    },
}


def messages_router(dispatcher: Dispatcher, auth: params.Depends) -> APIRouter:
    router = APIRouter(prefix="/v1/messages", tags=["messages"], dependencies=[auth])

    @router.post(
        "",
        status_code=202,
        responses=error_responses(401, 409, 422, 503),
        summary="Send one message, or a batch (an object with `messages`)",
    )
    async def send_messages(
        body: Annotated[SendBody, Body(openapi_examples=SEND_EXAMPLES)],
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> MessagesAccepted:
        accepted = await run_in_threadpool(_send, dispatcher, body, idempotency_key)
        if idempotency_key is not None and all(accepted.replayed):
            # Stripe's header: this answer is the first request's, and nothing new was stored.
            response.headers[REPLAYED_HEADER] = "true"
        return MessagesAccepted(ids=accepted)

    @router.get(
        "/{message_id}",
        responses=error_responses(401, 404, 422, 503),
        summary="A message's state and history",
    )
    async def get_message(message_id: str) -> MessageStatusOut:
        found = await run_in_threadpool(dispatcher.status, message_id)
        if found is None:
            raise HTTPException(404, "no such message")
        return MessageStatusOut.of(found)

    return router


def _send(dispatcher: Dispatcher, body: SendBody, idempotency_key: str | None) -> StoredIds:
    if isinstance(body, MessageBatch):
        keys = (
            None if idempotency_key is None else [f"{idempotency_key}:{i}" for i in range(len(body.messages))]
        )
        return dispatcher.send_many(
            [channel_message(item) for item in body.messages], idempotency_keys=keys, **body.send_kwargs()
        )
    fallback = sms_fallback(body) if isinstance(body, BsgRcsRequest) else None
    return dispatcher.send_with_receipt(
        channel_message(body), idempotency_key=idempotency_key, fallback=fallback, **body.send_kwargs()
    )
