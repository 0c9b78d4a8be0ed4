"""The HTTP session webhooks are POSTed with: every connection checks the address it actually
reached against the ``AddressPolicy`` before a byte is sent, so a host that resolved to a public
address at intake and to an internal one now (DNS rebinding) is refused at the socket. No proxies
from the environment (the check must see the real peer) and no redirects (the caller's choice)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, ClassVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from dispatcher.webhooks.addresses import AddressPolicy, WebhookAddressRefused


class _PeerChecked:
    """Mixed into urllib3's connections: the socket's peer must be allowed."""

    policy: ClassVar[AddressPolicy]

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        reason = self.policy.refusal(ipaddress.ip_address(sock.getpeername()[0]))
        if reason is not None:
            sock.close()
            raise WebhookAddressRefused(reason)
        return sock


def guarded_session(policy: AddressPolicy) -> requests.Session:
    """A session whose connections go only where ``policy`` allows."""

    class Http(_PeerChecked, HTTPConnection):
        pass

    class Https(_PeerChecked, HTTPSConnection):
        pass

    Http.policy = Https.policy = policy

    class HttpPool(HTTPConnectionPool):
        ConnectionCls = Http

    class HttpsPool(HTTPSConnectionPool):
        ConnectionCls = Https

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HttpPool, "https": HttpsPool}

    session = requests.Session()
    session.trust_env = False
    session.mount("http://", Adapter())
    session.mount("https://", Adapter())
    return session
