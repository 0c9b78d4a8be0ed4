"""Where webhooks may go: only to globally routable addresses, unless the deployment allows a
network (``DISPATCHER_WEBHOOK_ALLOW_NETWORKS``; ``dispatcher dev`` allows loopback).

A webhook URL comes from an API client, and workers POST to it from inside the deployment's
network: without this rule a client could make them reach loopback services, private networks or a
cloud metadata endpoint (169.254.169.254). The rule is applied to every address the host resolves
to, at intake and again when the connection is made (``transport``), so a name that resolves
differently later (DNS rebinding) is refused all the same.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
#: getaddrinfo's signature, so tests can resolve without DNS.
Resolver: TypeAlias = Callable[[str, int], Sequence[str]]


class WebhookAddressRefused(ValueError):
    """The webhook URL's host is, or resolves to, an address webhooks may not reach; says which."""


def parse_networks(text: str | None) -> tuple[IPNetwork, ...]:
    """``"127.0.0.0/8, ::1/128"`` as networks; raises ValueError naming a bad entry."""
    networks = []
    for entry in (text or "").split(","):
        if entry.strip():
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{entry.strip()!r} is not a network (e.g. 127.0.0.0/8, ::1/128)") from None
    return tuple(networks)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Globally routable addresses only, plus the ``allowed`` networks."""

    allowed: tuple[IPNetwork, ...] = ()

    def refusal(self, address: IPAddress) -> str | None:
        """Why webhooks may not go to ``address`` (None: they may)."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed):
            return None
        if address.is_global and not address.is_multicast:
            return None
        kind = next(
            (
                name
                for name, flag in (
                    ("loopback", address.is_loopback),
                    ("link-local (cloud metadata lives here)", address.is_link_local),
                    ("private", address.is_private),
                    ("multicast", address.is_multicast),
                    ("unspecified", address.is_unspecified),
                )
                if flag
            ),
            "not globally routable",
        )
        return (
            f"{address} is {kind}: webhooks go only to public addresses (DISPATCHER_WEBHOOK_ALLOW_NETWORKS)"
        )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (getaddrinfo); an IP literal is itself."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_webhook_host(url: str, policy: AddressPolicy, resolver: Resolver = resolve) -> None:
    """Raise ``WebhookAddressRefused`` unless every address the URL's host resolves to is allowed
    (a resolver that finds none leaves nothing to refuse: the connection then fails by itself).
    A host that does not resolve raises the resolver's ``OSError`` (a DNS failure may pass)."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise WebhookAddressRefused("has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookAddressRefused("has an invalid port") from None
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else [ipaddress.ip_address(a) for a in resolver(host, port)]
    for address in addresses:
        reason = policy.refusal(address)
        if reason is not None:
            shown = "" if literal is not None else f"host {host!r} resolves to {address}: "
            raise WebhookAddressRefused(f"{shown}{reason}")
