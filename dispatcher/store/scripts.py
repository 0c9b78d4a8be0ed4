"""The store's Lua scripts, loaded once per client with the shared prelude and the state table.

Scripts that move messages start with ``prelude.lua`` (the ``move`` helper, campaign counters,
retention, Redis' clock), into which the transition table of ``states.py`` is rendered: one source
of truth. ``--@include <name>`` in any script (the prelude too) is replaced by ``lua/<name>.lua``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import redis
from redis.commands.core import Script

from dispatcher.store.states import lua_tables

_LUA_DIRECTORY = Path(__file__).with_name("lua")
_TABLES_MARK = "--@STATE_TABLES@"
#: Scripts that move no message through a state: no prelude, no shared ARGV.
_WITHOUT_PRELUDE = frozenset(
    {
        "claim_runner",
        "renew_runner",
        "create_campaign",
        "claim_campaign",
        "renew_campaign",
        "commit_campaign",
        "release_campaign",
        "discard_campaign",
        "webhook_scan",
        "claim_webhooks",
        "retry_webhook",
        "finish_webhook",
    }
)
_INCLUDE_MARK = "--@include "


def _expanded(name: str) -> str:
    """``lua/<name>.lua`` with its ``--@include`` lines replaced by the files they name."""
    return "".join(
        _expanded(line[len(_INCLUDE_MARK) :].strip()) if line.startswith(_INCLUDE_MARK) else line
        for line in (_LUA_DIRECTORY / f"{name}.lua").read_text(encoding="utf-8").splitlines(keepends=True)
    )


@cache
def script_text(name: str) -> str:
    """The full text of script ``name``: the rendered prelude, then the script itself."""
    body = _expanded(name)
    if name in _WITHOUT_PRELUDE:
        return body
    return _expanded("prelude").replace(_TABLES_MARK, lua_tables()) + body


class Scripts:
    """Every script of the store, registered on one client (EVALSHA, loaded on first use)."""

    def __init__(self, client: redis.Redis) -> None:
        def load(name: str) -> Script:
            return client.register_script(script_text(name))

        self.add_messages = load("add_messages")
        self.take_batch = load("take_batch")
        self.mark_posting = load("mark_posting")
        self.record_outcomes = load("record_outcomes")
        self.requeue = load("requeue")
        self.retry_later = load("retry_later")
        self.settle = load("settle")
        self.transition = load("transition")
        self.release_due_retries = load("release_due_retries")
        self.claim_runner = load("claim_runner")
        self.renew_runner = load("renew_runner")
        self.create_campaign = load("create_campaign")
        self.claim_campaign = load("claim_campaign")
        self.renew_campaign = load("renew_campaign")
        self.commit_campaign = load("commit_campaign")
        self.release_campaign = load("release_campaign")
        self.discard_campaign = load("discard_campaign")
        # Callbacks, schedules, fallback and webhooks.
        self.release_scheduled = load("release_scheduled")
        self.apply_reports = load("apply_reports")
        self.apply_early = load("apply_early")
        self.claim_fallbacks = load("claim_fallbacks")
        self.webhook_scan = load("webhook_scan")
        self.claim_webhooks = load("claim_webhooks")
        self.retry_webhook = load("retry_webhook")
        self.finish_webhook = load("finish_webhook")
