"""What the Smartswitch adapter refuses before any request is made (no network involved)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from dispatcher.accounts import SmartswitchAccount
from dispatcher.errors import InvalidMessage
from dispatcher.models.common import build
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.providers.smartswitch import SmartswitchAdapter, query_params

PASSWORD = "pa55-w0rd-unit"


@pytest.fixture
def adapter(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmartswitchAdapter]:
    monkeypatch.setenv("UNIT_SS_LOGIN", "acme")
    monkeypatch.setenv("UNIT_SS_PASSWORD", PASSWORD)
    account = SmartswitchAccount(
        name="ss-unit",
        provider="smartswitch",
        base_url="http://127.0.0.1:9/smartswitch",
        login_env="UNIT_SS_LOGIN",
        password_env="UNIT_SS_PASSWORD",
        max_url_bytes=1024,
    )
    smartswitch = SmartswitchAdapter(account)
    yield smartswitch
    smartswitch.close()


def sms(**fields: Any) -> SmartswitchSms:
    return build(SmartswitchSms, {"destination_number": "12123388100", "body": "test", **fields})


def test_smartswitch_adapter_repr_shows_no_credentials(adapter: SmartswitchAdapter) -> None:
    assert repr(adapter) == "SmartswitchAdapter(account='ss-unit')"
    assert PASSWORD not in repr(adapter.account)


def test_smartswitch_send_refuses_an_empty_batch(adapter: SmartswitchAdapter) -> None:
    with pytest.raises(ValueError, match="at least one message"):
        adapter.send([])


def test_smartswitch_send_refuses_repeated_request_ids(adapter: SmartswitchAdapter) -> None:
    with pytest.raises(ValueError, match="request_id must be unique"):
        adapter.send([sms(request_id="x"), sms(destination_number="12123388101", request_id="x")])


def test_smartswitch_send_refuses_a_batch_over_the_url_bound_without_showing_the_url(
    adapter: SmartswitchAdapter,
) -> None:
    with pytest.raises(ValueError, match="max_url_bytes=1024") as caught:
        adapter.send([sms(body="y" * 200, request_id=str(n)) for n in range(5)])
    assert PASSWORD not in str(caught.value)
    assert "127.0.0.1" not in str(caught.value)


def test_smartswitch_adapter_pack_counts_the_endpoint_and_credentials(adapter: SmartswitchAdapter) -> None:
    messages = [sms(body="z" * 100, request_id=str(n)) for n in range(20)]
    batches = adapter.pack(messages)
    assert [m for batch in batches for m in batch] == messages
    assert len(batches) > 1
    for batch in batches:
        params = query_params(batch, login="acme", password=PASSWORD)
        url = (
            requests.Request("POST", "http://127.0.0.1:9/smartswitch/api/message", params=params)
            .prepare()
            .url
        )
        assert url is not None
        assert len(url) <= 1024


def test_smartswitch_adapter_pack_refuses_a_message_that_cannot_fit(adapter: SmartswitchAdapter) -> None:
    with pytest.raises(InvalidMessage) as caught:
        adapter.pack([sms(body="w" * 2000)])
    assert caught.value.problems[0].field == "body"
