"""Entry point of the ``dispatcher`` command: a click group whose commands live in sibling modules.

Exit codes: 0 success, 1 failure, 2 usage error (click's own convention for bad arguments).
"""

from __future__ import annotations

import click

from dispatcher.cli.api import api
from dispatcher.cli.demo import demo
from dispatcher.cli.lanes import lanes
from dispatcher.cli.simulator import simulator


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="dispatcher")
def cli() -> None:
    """Dispatcher: SMS, voice codes and RCS through Revicom, Smartswitch and BSG."""


cli.add_command(api)
cli.add_command(simulator)
cli.add_command(demo)
cli.add_command(lanes)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
