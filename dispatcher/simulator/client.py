"""A small Python client for the simulator's control API (``/_sim``), for tests and benchmarks."""

from __future__ import annotations

from typing import Any

import requests

_TIMEOUT_S = 10.0


class SimulatorError(RuntimeError):
    """The control API refused a call; the message carries its answer."""


class SimulatorClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._session.request(method, f"{self.base_url}/_sim/{path}", timeout=_TIMEOUT_S, **kwargs)
        if response.status_code >= 400:
            raise SimulatorError(f"{method} /_sim/{path}: HTTP {response.status_code}: {response.text}")
        return response.json()

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def reset(self) -> None:
        self._call("POST", "reset")

    def requests(self, path: str | None = None, since: int | None = None) -> list[dict[str, Any]]:
        """Logged provider requests in order (``since``: only those with a larger seq)."""
        params: dict[str, Any] = {}
        if path is not None:
            params["path"] = path
        if since is not None:
            params["since"] = since
        entries: list[dict[str, Any]] = self._call("GET", "requests", params=params)["requests"]
        return entries

    def messages(self, provider: str | None = None) -> list[dict[str, Any]]:
        params = {"provider": provider} if provider is not None else {}
        found: list[dict[str, Any]] = self._call("GET", "messages", params=params)["messages"]
        return found

    def callbacks(self) -> list[dict[str, Any]]:
        """Every callback the simulator attempted, in order, with the receiver's status or an error."""
        sent: list[dict[str, Any]] = self._call("GET", "callbacks")["callbacks"]
        return sent

    def add_fault(self, **fields: Any) -> dict[str, Any]:
        """Add a fault: path, kind, and optionally method, seconds, status, retry_after, count,
        probability, after_processing (see docs/simulator.md)."""
        fault: dict[str, Any] = self._call("POST", "faults", json=fields)
        return fault

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def configure(self, **fields: Any) -> dict[str, Any]:
        """Change runtime config (partial); returns the whole config now in force."""
        config: dict[str, Any] = self._call("POST", "config", json=fields)
        return config

    def close(self) -> None:
        self._session.close()
