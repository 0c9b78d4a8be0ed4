"""``dispatcher demo``: one message per channel through the real adapters to the simulator, and the
delivery callbacks the simulator sends back, parsed. Needs no credentials and no set-up.

The dispatch pipeline (store, lanes, workers) is not in this demo yet: it shows the layer the
pipeline will stand on — models, adapters, the simulator and callback parsing — working end to end.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
import uuid

import click
import redis

from dispatcher.accounts import Account, BsgAccount, RevicomAccount, SmartswitchAccount, load_accounts
from dispatcher.errors import DispatcherError
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.models.revicom import RevicomSms, RevicomVoiceCode
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.phone import mask_msisdn
from dispatcher.providers import bsg_callbacks, revicom_callbacks
from dispatcher.providers.bsg import BsgAdapter
from dispatcher.providers.outcomes import DeliveryReport, Outcome, Submitted
from dispatcher.providers.revicom import RevicomAdapter
from dispatcher.providers.smartswitch import SmartswitchAdapter, parse_receipt
from dispatcher.settings import Settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.process import running_simulator
from dispatcher.simulator.receiver import CallbackReceiver, ReceivedPost

#: The demo stops listening once callbacks have been quiet this long, or after the overall wait.
CALLBACK_QUIET_S = 2.0
CALLBACK_WAIT_S = 15.0


def _demo_credentials() -> dict[str, str]:
    """Throw-away credentials shared by the simulator and the adapters of this run only."""
    key = f"demo{secrets.token_hex(3)}:{secrets.token_urlsafe(12)}"
    return {
        "DISPATCHER_REVICOM_TOKEN": base64.b64encode(key.encode()).decode(),
        "DISPATCHER_SMARTSWITCH_LOGIN": f"demo{secrets.token_hex(3)}",
        "DISPATCHER_SMARTSWITCH_PASSWORD": secrets.token_urlsafe(12),
        "DISPATCHER_BSG_API_KEY": f"live_{secrets.token_hex(16)}",
    }


def _show(channel: str, destination: str, outcome: Outcome) -> None:
    if isinstance(outcome, Submitted):
        result = f"submitted, provider id {outcome.provider_message_id}"
    else:
        result = f"rejected: {outcome.code} {outcome.reason}"
    click.echo(f"  {channel:<18} to {mask_msisdn(destination):<16} {result}")


def _parse(post: ReceivedPost) -> list[DeliveryReport]:
    if post.path.endswith("/revicom"):
        return revicom_callbacks.parse_callback(post.body)
    if post.path.endswith("/bsg"):
        return [bsg_callbacks.parse_callback(post.body)]
    return [parse_receipt(post.body, post.headers.get("Content-Type", ""))]


def _check_redis() -> None:
    url = os.environ.get("DISPATCHER_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        client.ping()
        version = client.info("server").get("redis_version", "?")
        click.echo(f"Redis {version} answers (the store, lanes and broker of the pipeline).")
    except redis.RedisError as exc:
        click.echo(f"Redis does not answer ({type(exc).__name__}); the pipeline will need it.")
    finally:
        client.close()


def _accounts(simulator_url: str) -> tuple[RevicomAccount, SmartswitchAccount, BsgAccount]:
    accounts: dict[str, Account] = load_accounts(Settings(simulator_url=simulator_url))
    revicom, smartswitch, bsg = accounts["revicom"], accounts["smartswitch"], accounts["bsg"]
    assert isinstance(revicom, RevicomAccount)
    assert isinstance(smartswitch, SmartswitchAccount)
    assert isinstance(bsg, BsgAccount)
    return revicom, smartswitch, bsg


def _send_all(simulator_url: str, callbacks: CallbackReceiver) -> None:
    revicom_account, smartswitch_account, bsg_account = _accounts(simulator_url)
    click.echo("\nSending through the adapters:")

    sms = build(
        RevicomSms,
        {
            "destination": "+14085553911",
            "sender_name": "SENDER",
            "text": "Your parcel is on its way",
            "callback_url": f"{callbacks.url}/revicom",
            "callback_events": ["sent", "delivered"],
        },
    )
    code = RevicomVoiceCode.from_code(
        destination="+442079460958", brand="demo", code="3456", callback_url=f"{callbacks.url}/revicom"
    )
    revicom = RevicomAdapter(revicom_account)
    outcomes = revicom.send([sms, code], request_tag=f"demo_{uuid.uuid4().hex}")
    _show("Revicom SMS", sms.destination, outcomes[0])
    _show("Revicom VOICECODE", code.destination, outcomes[1])

    smartswitch = SmartswitchAdapter(smartswitch_account)
    texts = [
        build(SmartswitchSms, {"destination_number": number, "body": "Sale starts today", "request_id": rid})
        for rid, number in (("1", "+380661231231"), ("2", "+12123388100"))
    ]
    for message, outcome in zip(texts, smartswitch.send(texts), strict=True):
        _show("Smartswitch SMS", message.destination_number, outcome)

    rcs = build(
        BsgRcs,
        {
            "phone": {"number": "380661231231", "reference_id": uuid.uuid4().hex},
            "sender": "rcs_sender",
            "options": {"text": "Hello from RCS"},
            "callback_url": f"{callbacks.url}/bsg",
            "alternative_channel": {"sms": {"text": "Hello from SMS", "sender": "Demo"}},
        },
    )
    _show("BSG RCS", rcs.phone.number, BsgAdapter(bsg_account).send(rcs))


def _wait_until_quiet(callbacks: CallbackReceiver) -> None:
    deadline = time.monotonic() + CALLBACK_WAIT_S
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(callbacks.posts) != seen:
            seen, quiet_since = len(callbacks.posts), time.monotonic()
        elif seen > 0 and time.monotonic() - quiet_since >= CALLBACK_QUIET_S:
            return
        time.sleep(0.1)


@click.command()
def demo() -> None:
    """Send one message per channel to the simulator and print the callbacks that come back.

    \b
    Example:
      dispatcher demo
    """
    _check_redis()
    credentials = _demo_credentials()
    os.environ.update(credentials)
    with running_simulator(credentials) as simulator_url, CallbackReceiver() as callbacks:
        click.echo(f"Simulator (Revicom, Smartswitch, BSG) at {simulator_url}")
        control = SimulatorClient(simulator_url)
        control.configure(callback_delay_s=[0.2, 0.5], smartswitch_dlr_url=f"{callbacks.url}/smartswitch")
        try:
            _send_all(simulator_url, callbacks)
        except DispatcherError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"\nDelivery callbacks from the simulator (waiting up to {CALLBACK_WAIT_S:g} s):")
        _wait_until_quiet(callbacks)
        for post in callbacks.posts:
            for report in _parse(post):
                click.echo(
                    f"  {report.provider:<12} {report.provider_message_id:<38} {report.kind:<6} "
                    f"{report.provider_status} -> {report.status.value if report.status else '-'}"
                )
        control.close()
