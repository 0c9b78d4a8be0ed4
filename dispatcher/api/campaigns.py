"""``/v1/campaigns``: start one (recipients inline, or an uploaded CSV), follow it, cancel it.

An uploaded CSV is streamed to a temporary file and read from there row by row, so a campaign of
any size never sits in memory whole.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, BinaryIO

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile, params
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from dispatcher.api.errors import REPLAYED_HEADER, error_responses
from dispatcher.api.requests import CampaignOptions, CampaignRequest
from dispatcher.api.responses import CampaignAccepted, CampaignCounts
from dispatcher.producer import Dispatcher, MessageTemplate
from dispatcher.producer.campaigns import CampaignReceipt
from dispatcher.producer.csv_rows import read_csv
from dispatcher.producer.templates import PHONE_COLUMN, Recipients

#: Bytes copied from the upload to the temporary file per read.
COPY_CHUNK = 1024 * 1024
#: What an uploaded recipients file may be.
UPLOAD_DESCRIPTION = (
    "CSV with a header row and a `phone` column: UTF-8 (with or without BOM) or UTF-16 with BOM; "
    "cells separated by `,`, `;` or tab (taken from the header line)."
)


def campaigns_router(dispatcher: Dispatcher, auth: params.Depends) -> APIRouter:
    router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"], dependencies=[auth])

    @router.post(
        "", status_code=202, responses=error_responses(401, 409, 422, 503), summary="Start a campaign"
    )
    async def start_campaign(body: CampaignRequest, response: Response) -> CampaignAccepted:
        receipt = await run_in_threadpool(_start, dispatcher, body, body.recipients)
        return _accepted(receipt, response)

    @router.post(
        "/upload",
        status_code=202,
        responses=error_responses(401, 409, 422, 503),
        summary="Start a campaign whose recipients are an uploaded CSV (a `phone` column plus variables)",
    )
    async def upload_campaign(
        file: Annotated[
            UploadFile,
            File(description=UPLOAD_DESCRIPTION),
        ],
        campaign: Annotated[
            str,
            Form(
                description="JSON: the POST /v1/campaigns body without `recipients`.",
                examples=[
                    '{"template": {"type": "revicom_sms", "sender_name": "SHOP", "text": "Hi {name}"}, '
                    '"campaign_id": "spring-sale", "region": "RU"}'
                ],
            ),
        ],
        response: Response,
    ) -> CampaignAccepted:
        options = _options(campaign)
        receipt = await run_in_threadpool(_start_from_upload, dispatcher, options, file.file, file.filename)
        return _accepted(receipt, response)

    @router.get("/{campaign_id}", responses=error_responses(401, 404, 422, 503), summary="Messages per state")
    async def get_campaign(campaign_id: str) -> CampaignCounts:
        return await run_in_threadpool(_counts, dispatcher, campaign_id)

    @router.post(
        "/{campaign_id}/cancel",
        responses=error_responses(401, 404, 422, 503),
        summary="Cancel every message of the campaign not yet gone out",
    )
    async def cancel_campaign(campaign_id: str) -> CampaignCounts:
        await run_in_threadpool(_counts, dispatcher, campaign_id)  # 404 if unknown
        await run_in_threadpool(dispatcher.cancel_campaign, campaign_id)
        return await run_in_threadpool(_counts, dispatcher, campaign_id)

    return router


def _options(raw: str) -> CampaignOptions:
    try:
        return CampaignOptions.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**error, "loc": ("campaign", *error["loc"])} for error in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _accepted(receipt: CampaignReceipt, response: Response) -> CampaignAccepted:
    if receipt.replayed:
        # The campaign under this id, with this content, was stored by an earlier request.
        response.headers[REPLAYED_HEADER] = "true"
    return CampaignAccepted(id=receipt.id)


def _start(dispatcher: Dispatcher, options: CampaignOptions, recipients: Recipients) -> CampaignReceipt:
    return dispatcher.campaign_with_receipt(
        MessageTemplate(options.channel_model(), options.template_fields()),
        recipients,
        campaign_id=options.campaign_id,
        region=options.region,
        **options.send_kwargs(),
    )


def _start_from_upload(
    dispatcher: Dispatcher, options: CampaignOptions, upload: BinaryIO, filename: str | None
) -> CampaignReceipt:
    with tempfile.TemporaryDirectory(prefix="dispatcher-upload-") as directory:
        path = Path(directory) / "recipients.csv"
        with path.open("wb") as copy:
            shutil.copyfileobj(upload, copy, COPY_CHUNK)
        return _start(dispatcher, options, read_csv(path, required=PHONE_COLUMN, name=filename or "upload"))


def _counts(dispatcher: Dispatcher, campaign_id: str) -> CampaignCounts:
    accepted = dispatcher.campaign_accepted(campaign_id)
    counts = dispatcher.campaign_status(campaign_id)
    total = counts.pop("total", 0)
    if accepted is None or total == 0:
        raise HTTPException(404, "no such campaign")
    return CampaignCounts(id=campaign_id, accepted=accepted, total=total, counts=counts)
