"""Provider reports as moves of ours (pure): which state a report asks for, with which reason, and
which reports call for an RCS message's SMS fallback."""

from __future__ import annotations

from collections.abc import Mapping

from dispatcher.providers.outcomes import DeliveryReport, DeliveryStatus
from dispatcher.store.reports import StateReport
from dispatcher.store.states import DELIVERED, EXPIRED, FAILED, READ, SENT, UNDELIVERED, UNKNOWN

#: Our state for each normalised provider status. A number that cannot receive the channel did
#: not get the message: ``undelivered`` (the provider's word stays in the reason).
TARGET_OF: Mapping[DeliveryStatus, str] = {
    DeliveryStatus.SENT: SENT,
    DeliveryStatus.DELIVERED: DELIVERED,
    DeliveryStatus.READ: READ,
    DeliveryStatus.UNDELIVERED: UNDELIVERED,
    DeliveryStatus.EXPIRED: EXPIRED,
    DeliveryStatus.FAILED: FAILED,
    DeliveryStatus.NOT_SERVICE_USER: UNDELIVERED,
    DeliveryStatus.UNKNOWN: UNKNOWN,
}

#: Reports after which an RCS message's SMS fallback goes out (docs/pipeline.md §8).
FALLBACK_TRIGGERS = frozenset(
    {
        DeliveryStatus.FAILED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.UNDELIVERED,
        DeliveryStatus.NOT_SERVICE_USER,
    }
)


def state_report(report: DeliveryReport) -> StateReport:
    """The move a report asks for; clicks, prices and "still with the provider" statuses (BSG
    ``accepted``) only go into the history."""
    reason = f"callback {report.provider_status}"
    if report.error_code is not None:
        reason += f" error {report.error_code}"
    if report.kind != "status":
        reason = f"callback {report.kind} {report.provider_status}"
    target = TARGET_OF[report.status] if report.kind == "status" and report.status is not None else ""
    return StateReport(report.provider_message_id, target, " ".join(reason.split()))


def triggers_fallback(report: DeliveryReport) -> bool:
    return report.kind == "status" and report.status in FALLBACK_TRIGGERS
