"""Webhooks (pure parts): Standard Webhooks signatures a receiver's library verifies, backoff with
jitter, and the address rule that keeps API clients from aiming workers at internal networks."""

from __future__ import annotations

import base64
import ipaddress
import re
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from dispatcher.errors import InvalidMessage
from dispatcher.webhooks.addresses import (
    AddressPolicy,
    WebhookAddressRefused,
    check_webhook_host,
    parse_networks,
)
from dispatcher.webhooks.backoff import retry_delay_s
from dispatcher.webhooks.intake import UNSIGNED_RULE, WebhookUrls
from dispatcher.webhooks.signing import new_secret, signed_headers, webhook_key


def test_a_post_verifies_with_the_standard_webhooks_library_and_nothing_else_does() -> None:
    secret = new_secret()
    body = b'{"state":"sent"}'
    now = int(time.time())
    headers = signed_headers(webhook_key(secret), "m1.0", now, body)

    assert Webhook(secret).verify(body, headers) == {"state": "sent"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"state":"delivered"}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    assert headers["webhook-id"] == "m1.0"


@pytest.mark.parametrize(
    "secret", ["", "short", "whsec_", "whsec_not base64!", "whsec_" + base64.b64encode(b"x" * 8).decode()]
)
def test_a_secret_that_is_not_a_standard_webhooks_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="whsec_ followed by the base64"):
        webhook_key(secret)


def test_backoff_doubles_up_to_the_cap_with_jitter_in_its_upper_half() -> None:
    assert [retry_delay_s(n, base_s=1, cap_s=60, draw=1.0) for n in (0, 1, 2, 3)] == [1, 2, 4, 8]
    assert retry_delay_s(10, base_s=1, cap_s=60, draw=1.0) == 60
    assert retry_delay_s(3, base_s=1, cap_s=60, draw=0.0) == 4
    drawn = {retry_delay_s(3, base_s=1, cap_s=60) for _ in range(50)}
    assert len(drawn) > 1
    assert all(4 <= delay <= 8 for delay in drawn)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://192.168.1.10/",
        "http://100.64.0.1/",  # carrier-grade NAT: not global
        "http://[::ffff:10.0.0.1]/",  # IPv4-mapped
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(WebhookAddressRefused, match="webhooks go only to public addresses"):
        check_webhook_host(url, AddressPolicy())


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.1.2.3"]

    with pytest.raises(
        WebhookAddressRefused,
        match=re.escape("host 'hooks.example' resolves to 10.1.2.3: 10.1.2.3 is private"),
    ):
        check_webhook_host("https://hooks.example/x", AddressPolicy(), resolver)


def test_public_addresses_pass_and_allowed_networks_pass() -> None:
    check_webhook_host("https://93.184.215.14/hook", AddressPolicy())
    check_webhook_host("http://127.0.0.1:9000/", AddressPolicy(parse_networks("127.0.0.0/8, ::1/128")))


def test_allowed_networks_must_be_networks() -> None:
    assert parse_networks(" 10.20.0.0/16 ,") == (ipaddress.ip_network("10.20.0.0/16"),)
    with pytest.raises(ValueError, match="'nonsense' is not a network"):
        parse_networks("10.0.0.0/8,nonsense")


def test_intake_refuses_webhooks_on_a_deployment_without_a_secret() -> None:
    with pytest.raises(InvalidMessage) as caught:
        WebhookUrls(signed=False, policy=AddressPolicy()).check("https://93.184.215.14/hook")

    [problem] = caught.value.problems
    assert (problem.field, problem.rule) == ("webhook_url", UNSIGNED_RULE)


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("ftp://93.184.215.14/", "must be an absolute http:// or https:// URL"),
        ("http://10.0.0.1/", "webhook URL refused: 10.0.0.1 is private"),
        ("https://" + "a" * 2050, "at most 2048 characters"),
    ],
)
def test_intake_names_the_rule_a_url_breaks(url: str, rule: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        WebhookUrls(signed=True, policy=AddressPolicy()).check(url)

    assert rule in caught.value.problems[0].rule


def test_a_name_that_does_not_resolve_now_passes_intake_the_post_checks_again() -> None:
    def failing(host: str, port: int) -> list[str]:
        raise OSError("no DNS")

    WebhookUrls(signed=True, policy=AddressPolicy(), resolver=failing).check("https://hooks.invalid/x")


def test_intake_asks_dns_once_per_host_for_many_messages() -> None:
    asked: list[str] = []

    def counting(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["93.184.215.14"]

    urls = WebhookUrls(signed=True, policy=AddressPolicy(), resolver=counting)
    for _ in range(100):
        urls.check("https://hooks.example/status")

    assert asked == ["hooks.example"]
