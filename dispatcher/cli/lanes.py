"""``dispatcher lanes``: where messages wait (depth), which lanes are paused and why, how many
dispatch tasks work each, and each rate-limited account's usage (shared by all workers);
``dispatcher lanes pause NAME --reason ...`` stops a lane, ``dispatcher lanes resume NAME`` lifts a
pause (an operator's, or a worker's after an account error)."""

from __future__ import annotations

import click

from dispatcher.accounts import load_accounts
from dispatcher.ratelimit import AccountUsage, RedisLimiter, quota_for
from dispatcher.settings import Settings, load_settings
from dispatcher.store import Store
from dispatcher.store.connection import store_client
from dispatcher.taskqueue import PRIORITY_CLASSES, lane_name


def _store() -> Store:
    return Store.from_settings(load_settings())


def _usages(settings: Settings) -> list[tuple[float, AccountUsage]]:
    """(messages/s limit, usage) of every account with limits in the providers file."""
    limiter = RedisLimiter(store_client(settings), prefix=settings.key_prefix)
    return [
        (account.limits.messages_per_s, limiter.usage(name, quota_for(account.limits, "transactional")))
        for name, account in load_accounts(settings).items()
        if account.limits is not None
    ]


def _pause_text(reason: str | None, for_s: float | None) -> str:
    if reason is None:
        return "-"
    if for_s is None:
        return f"until resumed: {reason}"
    return f"{for_s:.1f} s more: {reason}"


@click.group(invoke_without_command=True)
@click.pass_context
def lanes(context: click.Context) -> None:
    """List lanes (depth, pause, runners), then the rate-limited accounts' usage.

    \b
    Examples:
      dispatcher lanes
      dispatcher lanes pause revicom:bulk --reason "provider maintenance"
      dispatcher lanes resume revicom:bulk
    """
    if context.invoked_subcommand is not None:
        return
    settings = load_settings()
    infos = Store.from_settings(settings).lanes()
    if not infos:
        click.echo("no lanes yet")
    else:
        width = max(len(info.name) for info in infos)
        click.echo(f"{'LANE':<{width}}  {'DEPTH':>9}  {'RUNNERS':>7}  PAUSED")
        for info in infos:
            paused = _pause_text(info.paused, info.paused_for_s)
            click.echo(f"{info.name:<{width}}  {info.depth:>9}  {info.runners:>7}  {paused}")
    usages = _usages(settings)
    if usages:
        _echo_usages(usages)


def _echo_usages(usages: list[tuple[float, AccountUsage]]) -> None:
    """Last second's messages against the limit, the bucket in use, requests in flight, and what
    the limit cost the workers: time slept for permits and batches handed back."""
    width = max(7, *(len(usage.account) for _, usage in usages))
    click.echo(
        f"\n{'ACCOUNT':<{width}}  {'MSGS/S':>15}  {'BUCKET':>6}  {'LEASES':>6}  "
        f"{'WAITED':>9}  {'HANDBACKS':>9}  PAUSED"
    )
    for limit, usage in usages:
        rate = f"{usage.last_second_messages}/{limit:g}"
        click.echo(
            f"{usage.account:<{width}}  {rate:>15}  {usage.messages_used:>6.0%}  {usage.leases:>6}  "
            f"{usage.waited_s:>8.1f}s  {usage.handbacks:>9}  {_pause_text(usage.paused, usage.paused_for_s)}"
        )


@lanes.command()
@click.argument("name")
@click.option("--reason", required=True, help="Why (shown by `dispatcher lanes` and in the workers' logs).")
@click.option(
    "--for",
    "for_s",
    type=click.FloatRange(min=1),
    help="Resume by itself after this many seconds [default: until `lanes resume`].",
)
def pause(name: str, reason: str, for_s: float | None) -> None:
    """Stop lane NAME: its messages wait (their deadlines still count) until it is resumed.

    \b
    Example:
      dispatcher lanes pause revicom:bulk --reason "provider maintenance until 14:00"
    """
    settings = load_settings()
    known = _known_lanes(settings)
    if name not in known:
        raise click.BadParameter(
            f"{name!r} is not a lane of this deployment (lanes: {', '.join(sorted(known))})",
            param_hint="NAME",
        )
    Store.from_settings(settings).pause_lane(name, reason, for_s=for_s)
    click.echo(f"{name}: paused{f' for {for_s:g} s' if for_s else ' until resumed'}: {reason}")


def _known_lanes(settings: Settings) -> set[str]:
    """Every lane the providers file's accounts can have, and every lane ever used."""
    lanes = {lane_name(account, cls) for account in load_accounts(settings) for cls in PRIORITY_CLASSES}
    return lanes | set(Store.from_settings(settings).lane_names())


@lanes.command()
@click.argument("name")
def resume(name: str) -> None:
    """Lift the pause of lane NAME; beat kicks it within a second.

    \b
    Example:
      dispatcher lanes resume revicom:bulk
    """
    if _store().resume_lane(name):
        click.echo(f"{name}: resumed")
    else:
        raise click.ClickException(f"{name} was not paused")
