"""The Revicom adapter against the simulator over real HTTP: bodies, outcomes, errors, look-ups."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dispatcher.accounts import Account, RevicomAccount
from dispatcher.errors import (
    AccessDenied,
    BadCredentials,
    BatchRejected,
    ConnectFailed,
    NotAuthenticated,
    ProviderUnavailable,
    RateLimited,
    ResponseTimedOut,
)
from dispatcher.models.common import build
from dispatcher.models.revicom import RevicomFlashCall, RevicomSms, RevicomVk, RevicomVoiceCode
from dispatcher.processes import free_port
from dispatcher.providers.outcomes import DeliveryStatus, Rejected, Submitted
from dispatcher.providers.revicom import RevicomAdapter, StopResult
from dispatcher.providers.revicom_callbacks import parse_callback
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.receiver import CallbackReceiver
from tests.provider_examples import (
    REVICOM_VOICECODE_REQUEST,
    revicom_sms_model,
    revicom_sms_request,
    revicom_voicecode_model,
)
from tests.support import account_copy

pytestmark = pytest.mark.integration

SEND_PATH = "/revicom/api/v1/message"
NUMBERS = ["14085553911", "14085553912", "14085553913", "14085553914"]


@pytest.fixture
def make_adapter(
    sim: SimulatorClient, accounts: dict[str, Account]
) -> Iterator[Callable[..., RevicomAdapter]]:
    """Adapters for the (freshly reset) simulator's Revicom account with ``changes``, closed after."""
    made: list[RevicomAdapter] = []

    def make(**changes: Any) -> RevicomAdapter:
        made.append(RevicomAdapter(account_copy(accounts, "revicom", RevicomAccount, **changes)))
        return made[-1]

    yield make
    for adapter in made:
        adapter.close()


@pytest.fixture
def adapter(make_adapter: Callable[..., RevicomAdapter]) -> RevicomAdapter:
    return make_adapter()


def sms(number: str = NUMBERS[0], **changes: Any) -> RevicomSms:
    return build(RevicomSms, {"destination": number, "sender_name": "SENDER", "text": "Hello", **changes})


def sent_bodies(sim: SimulatorClient) -> list[Any]:
    return [entry["body"] for entry in sim.requests(path=SEND_PATH) if entry["method"] == "POST"]


# ---- sending --------------------------------------------------------------------------------------


def test_documented_examples_are_accepted_with_the_exact_body(
    sim: SimulatorClient, adapter: RevicomAdapter
) -> None:
    outcomes = adapter.send([revicom_sms_model(), revicom_voicecode_model()], request_tag="req_docs")
    assert all(isinstance(outcome, Submitted) for outcome in outcomes)
    assert len({outcome.provider_message_id for outcome in outcomes if isinstance(outcome, Submitted)}) == 2
    assert sent_bodies(sim) == [
        [
            {**revicom_sms_request(), "tags": ["tag1", "tag2", "req_docs"]},
            {**REVICOM_VOICECODE_REQUEST, "tags": ["tag1", "tag2", "req_docs"]},
        ]
    ]


def test_every_channel_is_accepted(adapter: RevicomAdapter) -> None:
    messages = [
        sms(),
        RevicomVoiceCode.from_code(
            destination=NUMBERS[1], brand="Shop", code="1234", style="dashed", ttl_s=30
        ),
        build(RevicomFlashCall, {"destination": NUMBERS[2], "sender_name": "any sender", "code": "0042"}),
        build(RevicomVk, {"destination": NUMBERS[3], "sender_name": "group", "text": "Привет", "ttl_s": 60}),
    ]
    outcomes = adapter.send(messages, request_tag="req_channels")
    assert [type(outcome) for outcome in outcomes] == [Submitted] * 4


def test_refused_item_is_rejected_alone(sim: SimulatorClient, adapter: RevicomAdapter) -> None:
    sim.configure(revicom_approved_senders=["SENDER"])
    outcomes = adapter.send([sms(), sms(sender_name="UNAPPROVED"), sms()], request_tag="req_mixed")
    assert isinstance(outcomes[0], Submitted)
    assert isinstance(outcomes[1], Rejected)
    assert outcomes[1].code != "201"
    assert isinstance(outcomes[2], Submitted)


def test_batch_with_an_invalid_item_is_rejected_whole(sim: SimulatorClient, adapter: RevicomAdapter) -> None:
    # model_construct skips our validation: a message that slipped past it reaches the provider.
    invalid = RevicomSms.model_construct(destination="123", sender_name="SENDER", text="Hello", tags=())
    with pytest.raises(BatchRejected) as caught:
        adapter.send([sms(), invalid], request_tag="req_bad")
    assert caught.value.code == "4220"
    assert caught.value.reason == "Invalid msisdn"
    assert sim.messages("revicom") == []


# ---- credentials ----------------------------------------------------------------------------------


@pytest.fixture
def with_token(
    make_adapter: Callable[..., RevicomAdapter], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], RevicomAdapter]:
    def make(token: str) -> RevicomAdapter:
        monkeypatch.setenv("DISPATCHER_TEST_REVICOM_TOKEN", token)
        return make_adapter(token_env="DISPATCHER_TEST_REVICOM_TOKEN")

    return make


def test_wrong_token_is_bad_credentials(
    sim: SimulatorClient, with_token: Callable[[str], RevicomAdapter]
) -> None:
    adapter = with_token(base64.b64encode(b"nobody:wrong").decode())
    with pytest.raises(BadCredentials) as caught:
        adapter.send([sms()], request_tag="req_auth")
    assert caught.value.code == "4012"
    assert "nobody" not in str(caught.value)


def test_garbled_token_is_not_authenticated(
    sim: SimulatorClient, with_token: Callable[[str], RevicomAdapter]
) -> None:
    adapter = with_token("not base64!")
    with pytest.raises(NotAuthenticated):
        adapter.send([sms()], request_tag="req_auth")


def test_token_of_another_type_is_denied_except_for_balance(
    sim: SimulatorClient, with_token: Callable[[str], RevicomAdapter], sim_credentials: Any
) -> None:
    adapter = with_token(sim_credentials.revicom_other_token)
    with pytest.raises(AccessDenied):
        adapter.send([sms()], request_tag="req_auth")
    with pytest.raises(AccessDenied):
        adapter.find_by_tag("req_auth")
    assert "USD" in adapter.balance()


# ---- reconciliation, stop, balance ----------------------------------------------------------------


def test_find_by_tag_finds_exactly_what_one_request_created(adapter: RevicomAdapter) -> None:
    first = adapter.send([sms(number) for number in NUMBERS[:3]], request_tag="req_one")
    adapter.send([sms(number) for number in NUMBERS[3:]], request_tag="req_two")
    found = adapter.find_by_tag("req_one")
    assert sorted(message.message_uuid for message in found) == sorted(
        outcome.provider_message_id for outcome in first if isinstance(outcome, Submitted)
    )
    assert sorted(message.destination or "" for message in found) == NUMBERS[:3]
    assert adapter.find_by_tag("req_none") == []


def test_find_by_tag_follows_pages(adapter: RevicomAdapter) -> None:
    campaign = [sms(NUMBERS[0], tags=["campaign_x"])] * 1000
    first = adapter.send(campaign, request_tag="req_page_1")
    second = adapter.send([sms(NUMBERS[1], tags=["campaign_x"])] * 5, request_tag="req_page_2")
    found = adapter.find_by_tag("campaign_x")
    assert len(found) == 1005
    assert {message.message_uuid for message in found} == {
        outcome.provider_message_id for outcome in first + second if isinstance(outcome, Submitted)
    }


def test_lost_response_is_ambiguous_and_the_tag_shows_what_was_created(
    sim: SimulatorClient, make_adapter: Callable[..., RevicomAdapter]
) -> None:
    impatient = make_adapter(read_timeout_s=0.5)
    sim.add_fault(path=SEND_PATH, method="POST", kind="hang", seconds=2, after_processing=True, count=1)
    with pytest.raises(ResponseTimedOut):
        impatient.send([sms(number) for number in NUMBERS[:2]], request_tag="req_lost")
    found = make_adapter().find_by_tag("req_lost")
    assert sorted(message.destination or "" for message in found) == NUMBERS[:2]


def test_stop_reports_each_message(adapter: RevicomAdapter) -> None:
    later = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    (scheduled,) = adapter.send([sms(local_send_time=later)], request_tag="req_stop")
    assert isinstance(scheduled, Submitted)
    results = adapter.stop([scheduled.provider_message_id, "00000000-0000-0000-0000-000000000000"])
    assert results == {
        scheduled.provider_message_id: StopResult.WILL_STOP,
        "00000000-0000-0000-0000-000000000000": StopResult.NOT_FOUND,
    }


def test_stop_of_nothing_sends_nothing(sim: SimulatorClient, adapter: RevicomAdapter) -> None:
    assert adapter.stop([]) == {}
    assert sim.requests(path="/revicom/api/v1/message/stop") == []


def test_balance_is_exact(sim: SimulatorClient, adapter: RevicomAdapter) -> None:
    sim.configure(revicom_balance_usd=12.34)
    assert adapter.balance() == {"USD": Decimal("12.34")}


def test_simulator_callbacks_parse_into_delivery_reports(
    sim: SimulatorClient, adapter: RevicomAdapter
) -> None:
    sim.configure(callback_delay_s=(0.05, 0.1), outcomes={"revicom": {"delivered": 1.0}})
    with CallbackReceiver() as receiver:
        (outcome,) = adapter.send(
            [sms(callback_url=receiver.url, callback_events=["sent", "delivered"])], request_tag="req_cb"
        )
        assert isinstance(outcome, Submitted)
        posts = receiver.wait_for(2, timeout_s=10)
    reports = [report for post in posts for report in parse_callback(post.body)]
    assert {report.provider_message_id for report in reports} == {outcome.provider_message_id}
    assert [report.status for report in reports] == [DeliveryStatus.SENT, DeliveryStatus.DELIVERED]


# ---- transport failures ---------------------------------------------------------------------------


def test_hang_past_the_read_timeout_is_response_timed_out(
    sim: SimulatorClient, make_adapter: Callable[..., RevicomAdapter]
) -> None:
    impatient = make_adapter(read_timeout_s=0.5)
    sim.add_fault(path=SEND_PATH, method="POST", kind="hang", seconds=2, count=1)
    with pytest.raises(ResponseTimedOut):
        impatient.send([sms()], request_tag="req_hang")


def test_503_is_provider_unavailable(sim: SimulatorClient, adapter: RevicomAdapter) -> None:
    sim.add_fault(path=SEND_PATH, method="POST", kind="status", status=503, count=1)
    with pytest.raises(ProviderUnavailable):
        adapter.send([sms()], request_tag="req_503")


def test_429_is_rate_limited_with_retry_after(sim: SimulatorClient, adapter: RevicomAdapter) -> None:
    sim.add_fault(path=SEND_PATH, method="POST", kind="rate_limit", retry_after=3, count=1)
    with pytest.raises(RateLimited) as caught:
        adapter.send([sms()], request_tag="req_429")
    assert caught.value.retry_after_s == 3


def test_closed_port_is_connect_failed(make_adapter: Callable[..., RevicomAdapter]) -> None:
    closed = make_adapter(base_url=f"http://127.0.0.1:{free_port()}/revicom")
    with pytest.raises(ConnectFailed):
        closed.send([sms()], request_tag="req_closed")
