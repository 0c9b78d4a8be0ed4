"""``dispatcher lanes``: where messages wait (depth), which lanes are paused and why, how many
dispatch tasks work each; ``dispatcher lanes resume NAME`` lifts a pause (after fixing an account)."""

from __future__ import annotations

import click

from dispatcher.settings import load_settings
from dispatcher.store import Store


def _store() -> Store:
    return Store.from_settings(load_settings())


@click.group(invoke_without_command=True)
@click.pass_context
def lanes(context: click.Context) -> None:
    """List lanes: depth, pause and runners."""
    if context.invoked_subcommand is not None:
        return
    infos = _store().lanes()
    if not infos:
        click.echo("no lanes yet")
        return
    width = max(len(info.name) for info in infos)
    click.echo(f"{'LANE':<{width}}  {'DEPTH':>9}  {'RUNNERS':>7}  PAUSED")
    for info in infos:
        if info.paused is None:
            paused = "-"
        elif info.paused_for_s is None:
            paused = f"until resumed: {info.paused}"
        else:
            paused = f"{info.paused_for_s:.1f} s more: {info.paused}"
        click.echo(f"{info.name:<{width}}  {info.depth:>9}  {info.runners:>7}  {paused}")


@lanes.command()
@click.argument("name")
def resume(name: str) -> None:
    """Lift the pause of lane NAME (e.g. revicom:bulk); beat kicks it within a second."""
    if _store().resume_lane(name):
        click.echo(f"{name}: resumed")
    else:
        raise click.ClickException(f"{name} was not paused")
