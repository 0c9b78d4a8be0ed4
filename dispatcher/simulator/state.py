"""Everything one simulator process holds, in one object the endpoints share."""

from __future__ import annotations

from starlette.requests import Request

from dispatcher.simulator.callbacks import CallbackLog, CallbackSender
from dispatcher.simulator.config import Credentials, SimConfig
from dispatcher.simulator.faults import FaultRegistry
from dispatcher.simulator.lifecycle import Lifecycle
from dispatcher.simulator.requestlog import RequestLog
from dispatcher.simulator.store import IdFactory, MessageStore
from dispatcher.simulator.tokens import JwtSigner


class SimulatorState:
    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.config = SimConfig()
        self.ids = IdFactory()
        self.store = MessageStore()
        self.requests = RequestLog()
        self.faults = FaultRegistry()
        self.callback_log = CallbackLog()
        self.callbacks = CallbackSender(lambda: self.config, self.callback_log)
        self.lifecycle = Lifecycle(lambda: self.config, self.callbacks)
        self.jwt = JwtSigner()

    def reset(self) -> None:
        """Back to a fresh process: no messages, requests, faults or callbacks; default config."""
        self.config = SimConfig()
        self.store.clear()
        self.requests.clear()
        self.faults.clear()
        self.lifecycle.clear()
        self.callbacks.discard_pending()
        self.callback_log.clear()


def sim_state(request: Request) -> SimulatorState:
    state: SimulatorState = request.app.state.sim
    return state
