"""``dispatcher campaign send|status|cancel|audit``: SMS campaigns from a CSV file, and proof that
each of their messages reached exactly one final state."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path

import click

from dispatcher.cli.common import IsoDateTime, dispatcher_from_environment
from dispatcher.cli.failures import fail
from dispatcher.cli.options import deadline_option
from dispatcher.models.revicom import RevicomSms
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.producer import Dispatcher, MessageTemplate
from dispatcher.producer.templates import Recipient, recipient_rows
from dispatcher.store.states import FINAL_STATES
from dispatcher.taskqueue import BULK_QUEUE, TRANSACTIONAL_QUEUE

POLL_INTERVAL_S = 0.5


@click.group()
def campaign() -> None:
    """Send an SMS campaign from a CSV file and follow it.

    \b
    Example:
      dispatcher campaign send customers.csv --sender SHOP --text "Hi {name}, 20% off" --wait
      dispatcher campaign audit 0193a1b2c3d4e5f6a7b8c9d0e1
    """


def _final(counts: Mapping[str, int]) -> int:
    return sum(counts.get(state, 0) for state in FINAL_STATES)


def _rows_in(path: Path) -> int:
    """Data rows of the CSV (lines after the header): the upload bar's length, read once ahead."""
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def _counted(rows: Iterator[Recipient], advance: Callable[[int], None]) -> Iterator[Recipient]:
    for row in rows:
        advance(1)
        yield row


def _template(dispatcher: Dispatcher, account: str | None, sender: str, text: str) -> MessageTemplate:
    chosen = dispatcher.accounts.get(account or "")
    if chosen is not None and chosen.provider == "smartswitch":
        return MessageTemplate(SmartswitchSms, {"source_name": sender, "body": text})
    return MessageTemplate(RevicomSms, {"sender_name": sender, "text": text})


def _wait(dispatcher: Dispatcher, campaign_id: str, timeout_s: float) -> Mapping[str, int]:
    counts = dispatcher.campaign_status(campaign_id)
    deadline = time.monotonic() + timeout_s
    with click.progressbar(length=counts["total"], label="Delivery", file=sys.stderr) as bar:
        shown = 0
        while True:
            done = _final(counts)
            bar.update(done - shown)
            shown = done
            if done >= counts["total"] or time.monotonic() > deadline:
                return counts
            time.sleep(POLL_INTERVAL_S)
            counts = dispatcher.campaign_status(campaign_id)


def _print_counts(counts: Mapping[str, int]) -> None:
    click.echo(f"{'total':<12} {counts['total']}")
    for state, count in counts.items():
        if count and state != "total":
            click.echo(f"{state:<12} {count}")


@campaign.command("send")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sender", required=True, help="Sender name of every SMS.")
@click.option("--text", required=True, help="The text; {column} placeholders are filled from each row.")
@click.option("--account", help="SMS account (Revicom or Smartswitch) [default: routed].")
@click.option(
    "--campaign-id",
    help="Name the campaign (1..64 letters, digits, _ or -): running the command again with the same id "
    "and file sends nothing twice [default: a new id].",
)
@click.option(
    "--region",
    help="ISO 3166 region (RU, DE, ...) of the numbers written nationally, e.g. 8 (916) 123-45-67 "
    "[default: DISPATCHER_DEFAULT_REGION; unset, such numbers are refused].",
)
@click.option("--priority", type=click.Choice([BULK_QUEUE, TRANSACTIONAL_QUEUE]), help="[default: bulk]")
@click.option("--send-at", type=IsoDateTime(), help="Not sent before this (with a time zone).")
@deadline_option
@click.option("--webhook-url", help="Status changes of every message are POSTed here.")
@click.option("--wait", is_flag=True, help="Show delivery progress until every message is final.")
@click.option(
    "--timeout", type=click.FloatRange(min=0), default=600.0, show_default=True, help="With --wait."
)
def campaign_send(  # noqa: PLR0917 - click passes every option as an argument
    csv_file: Path,
    sender: str,
    text: str,
    account: str | None,
    campaign_id: str | None,
    region: str | None,
    priority: str | None,
    send_at: datetime | None,
    deadline_s: float | None,
    webhook_url: str | None,
    wait: bool,
    timeout: float,
) -> None:
    """Send an SMS to every row of CSV_FILE (a `phone` column, plus any columns the text uses).

    The file may be UTF-8 (with or without BOM) or UTF-16 (Excel's "Unicode text"), its cells
    separated by commas, semicolons or tabs; column names match {placeholders} whatever their case
    and spaces. A row with an empty or missing value for a placeholder is refused, named by its
    line, and nothing of the campaign is stored.

    Prints the campaign id on stdout (progress goes to stderr). With --wait, exits 1 when some
    messages are not final within --timeout seconds. With --campaign-id, a second run of the same
    command (after a network blip, say) sends nothing again; the same id with another file or text
    is refused.

    \b
    Example:
      printf 'phone,name\\n79161234567,Ann\\n' > customers.csv
      dispatcher campaign send customers.csv --sender SHOP --text "Hi {name}" --wait
    """
    with dispatcher_from_environment() as dispatcher:
        template = _template(dispatcher, account, sender, text)
        with click.progressbar(length=_rows_in(csv_file), label="Upload  ", file=sys.stderr) as bar:
            receipt = dispatcher.campaign_with_receipt(
                template,
                _counted(recipient_rows(csv_file), bar.update),
                campaign_id=campaign_id,
                region=region,
                account=account,
                priority=priority,
                send_at=send_at,
                deadline_s=deadline_s,
                webhook_url=webhook_url,
            )
        if receipt.replayed:
            click.echo(
                f"campaign {receipt.id} was sent before with this content: nothing sent again", err=True
            )
        click.echo(receipt.id)
        if wait:
            counts = _wait(dispatcher, receipt.id, timeout)
            if _final(counts) < counts["total"]:
                waiting = counts["total"] - _final(counts)
                fail(f"{waiting} of {counts['total']} messages not final after {timeout:g} s")


def _show_counts(campaign_id: str, operation: Callable[[Dispatcher, str], dict[str, int]]) -> None:
    """Run ``operation`` on the campaign and print its counts; exit 1 for an unknown campaign."""
    with dispatcher_from_environment() as dispatcher:
        counts = operation(dispatcher, campaign_id)
        accepted = dispatcher.campaign_accepted(campaign_id)
    if not counts["total"] or accepted is None:
        fail(f"no campaign {campaign_id!r}")
    if not accepted:
        click.echo("not accepted yet: its recipients are still being checked (nothing of it is sent before)")
    _print_counts(counts)


@campaign.command("status")
@click.argument("campaign_id")
def campaign_status(campaign_id: str) -> None:
    """Messages of the campaign per state; exit 1 for an unknown campaign.

    \b
    Example:
      dispatcher campaign status 0193a1b2c3d4e5f6a7b8c9d0e1
    """
    _show_counts(campaign_id, Dispatcher.campaign_status)


@campaign.command("cancel")
@click.argument("campaign_id")
def campaign_cancel(campaign_id: str) -> None:
    """Cancel every message of the campaign not yet gone out; prints the counts after.

    \b
    Example:
      dispatcher campaign cancel 0193a1b2c3d4e5f6a7b8c9d0e1
    """
    _show_counts(campaign_id, Dispatcher.cancel_campaign)


@campaign.command("audit")
@click.argument("campaign_id")
def campaign_audit(campaign_id: str) -> None:
    """Prove every message of the campaign reached exactly one final state.

    Reads every message record of the campaign, counts them by state and compares that with the
    campaign's counters. Exit 0 when every message is final and both agree, 1 otherwise.

    \b
    Example:
      dispatcher campaign audit 0193a1b2c3d4e5f6a7b8c9d0e1
    """
    with dispatcher_from_environment() as dispatcher:
        counters = dispatcher.campaign_status(campaign_id)
        ids = list(dispatcher.store.campaign_message_ids(campaign_id))
        records = Counter(
            record.state if record is not None else "(missing)" for record in map(dispatcher.store.get, ids)
        )
    if not counters["total"] and not ids:
        fail(f"no campaign {campaign_id!r}")
    problems = []
    if len(ids) != len(set(ids)) or len(ids) != counters["total"]:
        problems.append(f"{len(set(ids))} distinct message ids, {counters['total']} counted at intake")
    click.echo(f"{'state':<12} {'records':>8} {'counter':>8}")
    for state in sorted(set(records) | {s for s, n in counters.items() if n and s != "total"}):
        counter = counters.get(state, 0)
        click.echo(f"{state:<12} {records[state]:>8} {counter:>8}")
        if records[state] != counter:
            problems.append(f"{state}: {records[state]} records but the counter says {counter}")
        if state not in FINAL_STATES and records[state]:
            problems.append(f"{records[state]} messages still {state}")
    if problems:
        click.echo("NOT PROVEN:\n  " + "\n  ".join(problems))
        raise SystemExit(1)
    click.echo(f"OK: all {len(ids)} messages in exactly one final state; counters agree")
