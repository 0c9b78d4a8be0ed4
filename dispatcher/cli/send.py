"""``dispatcher send sms|voicecode|flashcall|rcs``: one message, its id printed on stdout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from dispatcher.cli.common import IsoDateTime, dispatcher_from_environment
from dispatcher.cli.options import deadline_option
from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.models.revicom import RevicomFlashCall, RevicomSms, RevicomVoiceCode
from dispatcher.models.revicom_fields import VoiceCodeStyle
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.phone import normalize_msisdn, region_code
from dispatcher.producer import Dispatcher
from dispatcher.producer.extras import SmsFallback
from dispatcher.producer.routing import Message
from dispatcher.taskqueue import BULK_QUEUE, TRANSACTIONAL_QUEUE

CommandT = TypeVar("CommandT", bound=Callable[..., Any])


def _delivery_options(command: CommandT) -> CommandT:
    """The options every kind of message takes (``Dispatcher.send``'s keyword arguments)."""
    for option in reversed(
        [
            click.option(
                "--to",
                "to",
                required=True,
                help="The recipient's number: international (+7 916 123-45-67), or national with --region.",
            ),
            click.option(
                "--region",
                help="ISO 3166 region (RU, DE, ...) of a number written nationally, e.g. 8 (916) 123-45-67 "
                "[default: DISPATCHER_DEFAULT_REGION].",
            ),
            click.option("--account", help="Provider account (providers file); default: routed by channel."),
            click.option(
                "--priority",
                type=click.Choice([TRANSACTIONAL_QUEUE, BULK_QUEUE]),
                help="Lane kind [default: transactional].",
            ),
            click.option("--send-at", type=IsoDateTime(), help="Not sent before this (with a time zone)."),
            deadline_option,
            click.option("--idempotency-key", help="A repeated key returns the first message's id."),
            click.option("--webhook-url", help="Status changes of this message are POSTed here."),
        ]
    ):
        command = option(command)
    return command


def _send(message: Callable[[Dispatcher, str], Message], to: str, **options: Any) -> None:
    with dispatcher_from_environment() as dispatcher:
        fallback = options.pop("fallback", None)
        number = _international(to, options.pop("region") or dispatcher.settings.default_region)
        message_id = dispatcher.send(
            message(dispatcher, number),
            account=options["account"],
            priority=options["priority"],
            send_at=options["send_at"],
            deadline_s=options["deadline_s"],
            idempotency_key=options["idempotency_key"],
            webhook_url=options["webhook_url"],
            fallback=fallback,
        )
    click.echo(message_id)


def _international(to: str, region: str | None) -> str:
    """``to`` as written when it is international (or there is no region), else read as a number
    of ``region`` (E.164 digits); InvalidMessage naming --to otherwise."""
    if region is None or to.lstrip().startswith(("+", "00")):
        return to
    try:
        return normalize_msisdn(to, default_region=region_code(region))
    except ValueError as exc:  # an unknown region, or a number not valid there
        raise InvalidMessage(
            [Problem("to", to, f"must be a valid number of region {region}: {exc}")]
        ) from None


@click.group()
def send() -> None:
    """Send one message; prints its id (follow it with `dispatcher status ID`).

    \b
    Example:
      dispatcher send sms --to 79161234567 --sender SHOP --text "Your order has shipped"
    """


@send.command()
@_delivery_options
@click.option("--sender", required=True, help="Sender name (alphanumeric, registered with the provider).")
@click.option("--text", required=True, help="The message text.")
def sms(to: str, sender: str, text: str, **options: Any) -> None:
    """An SMS (Revicom, or Smartswitch when --account names a Smartswitch account).

    \b
    Example:
      dispatcher send sms --to 79161234567 --sender SHOP --text "Hello" --send-at 2026-05-01T09:00+03:00
    """

    def message(dispatcher: Dispatcher, number: str) -> Message:
        account = dispatcher.accounts.get(options["account"] or "")
        if account is not None and account.provider == "smartswitch":
            return build(SmartswitchSms, {"destination_number": number, "source_name": sender, "body": text})
        return build(RevicomSms, {"destination": number, "sender_name": sender, "text": text})

    _send(message, to, **options)


@send.command()
@_delivery_options
@click.option("--brand", required=True, help="Who the code is from, read out before it.")
@click.option("--code", required=True, help="The digits to read out.")
@click.option("--style", type=click.Choice(["plain", "spaced", "dashed"]), default="plain", show_default=True)
def voicecode(to: str, brand: str, code: str, style: str, **options: Any) -> None:
    """A voice call reading out a code (Revicom VOICECODE).

    \b
    Example:
      dispatcher send voicecode --to 442079460912 --brand Shop --code 4321
    """
    spoken = cast(VoiceCodeStyle, style)
    _send(
        lambda _, number: RevicomVoiceCode.from_code(
            destination=number, brand=brand, code=code, style=spoken
        ),
        to,
        **options,
    )


@send.command()
@_delivery_options
@click.option("--sender", required=True, help="Sender name.")
@click.option("--code", required=True, help="The code: the last digits of the calling number.")
def flashcall(to: str, sender: str, code: str, **options: Any) -> None:
    """A flash call whose calling number ends in the code (Revicom FLASHCALL).

    \b
    Example:
      dispatcher send flashcall --to 79161234567 --sender SHOP --code 1234
    """
    _send(
        lambda _, number: build(
            RevicomFlashCall, {"destination": number, "sender_name": sender, "code": code}
        ),
        to,
        **options,
    )


@send.command()
@_delivery_options
@click.option("--sender", required=True, help="The RCS agent (BSG sender).")
@click.option("--text", required=True, help="The message text.")
@click.option("--fallback-text", help="Send this SMS instead when the RCS message does not arrive.")
@click.option("--fallback-sender", help="Sender name of the fallback SMS [default: --sender].")
@click.option("--fallback-account", help="SMS account of the fallback (Revicom or Smartswitch).")
@click.option(
    "--fallback-after",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    help="Seconds to wait for delivery before the fallback goes.",
)
def rcs(  # noqa: PLR0917 - click passes every option as an argument
    to: str,
    sender: str,
    text: str,
    fallback_text: str | None,
    fallback_sender: str | None,
    fallback_account: str | None,
    fallback_after: float,
    **options: Any,
) -> None:
    """An RCS message (BSG), optionally with an SMS fallback.

    \b
    Example:
      dispatcher send rcs --to 447946090012 --sender shop_rcs --text "Hi" --fallback-text "Hi" \\
        --fallback-sender SHOP
    """
    if fallback_text is not None:
        options["fallback"] = SmsFallback(
            fallback_text, fallback_sender or sender, account=fallback_account, deadline_s=fallback_after
        )
    _send(
        lambda _, number: build(
            BsgRcs, {"phone": {"number": number}, "sender": sender, "options": {"text": text}}
        ),
        to,
        **options,
    )
