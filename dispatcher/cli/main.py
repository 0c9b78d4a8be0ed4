"""Entry point of the ``dispatcher`` command: a click group whose commands live in sibling modules.

Exit codes: 0 success, 1 failure, 2 usage error (click's own convention for bad arguments); a
failure is one line on stderr, never a traceback (``failures``).
"""

from __future__ import annotations

import os

import click

from dispatcher import devstack
from dispatcher.cli.api import api
from dispatcher.cli.campaign import campaign
from dispatcher.cli.demo import demo
from dispatcher.cli.dev import dev
from dispatcher.cli.failures import FailureBoundary
from dispatcher.cli.lanes import lanes
from dispatcher.cli.send import send
from dispatcher.cli.simulator import simulator
from dispatcher.cli.status import status
from dispatcher.cli.webhook_secret import webhook_secret


@click.group(
    cls=FailureBoundary, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(package_name="dispatcher")
@click.pass_context
def cli(context: click.Context) -> None:
    """Dispatcher: SMS, voice codes and RCS through Revicom, Smartswitch and BSG.

    With no DISPATCHER_* setting in the environment, commands use the running `dispatcher dev`
    stack, if there is one (and say so).

    \b
    Examples:
      dispatcher dev --demo                 # the whole stack on this machine, a demo, then stop
      dispatcher send sms --to 79161234567 --sender SHOP --text "Hello"
      dispatcher status ID --json
    """
    if context.invoked_subcommand in _STANDALONE:
        return
    stack = devstack.adopt(os.environ)
    if stack is not None:
        click.echo(
            f"dispatcher: using the dev stack of pid {stack.pid} ({stack.path}); "
            "set DISPATCHER_* settings to use another deployment",
            err=True,
        )


#: Commands that never use a deployment's settings from a dev stack.
_STANDALONE = frozenset({"dev", "simulator", "webhook-secret"})


for command in (dev, api, simulator, send, status, campaign, lanes, demo, webhook_secret):
    cli.add_command(command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
