"""What a campaign call does when its id exists already (pure decisions, and the content digest)."""

from __future__ import annotations

import pytest

from dispatcher.models.revicom import RevicomSms
from dispatcher.producer.campaign_replay import ContentDigest, Step, next_step, template_digest
from dispatcher.producer.intake import call_options
from dispatcher.producer.templates import MessageTemplate
from dispatcher.store.campaigns import CampaignClaim

TEMPLATE = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Hi {name}"})


def claim(
    phase: str, *, lease_left_s: float | None = None, template: str = "t", content: str = ""
) -> CampaignClaim:
    return CampaignClaim(phase, "owner", lease_left_s, template, content)


@pytest.mark.parametrize(
    ("existing", "step"),
    [
        (claim("releasing", content="c"), Step.COMPARE_CONTENT),
        (claim("", content="c"), Step.COMPARE_CONTENT),
        (claim("", template="other", content="c"), Step.CONFLICT),
        (claim("", template="", content=""), Step.CONFLICT),
        (claim("", content=""), Step.CONFLICT),
        (claim("checking", lease_left_s=10), Step.WAIT),
        (claim("checking", lease_left_s=10, template="other"), Step.CONFLICT),
        (claim("checking", lease_left_s=-0.1), Step.TAKE_OVER),
        (claim("checking", lease_left_s=-5, template="other"), Step.TAKE_OVER),
        (claim("checking", lease_left_s=None), Step.TAKE_OVER),
        (claim("discarding"), Step.TAKE_OVER),
    ],
    ids=[
        "releasing",
        "released",
        "other-template",
        "no-digests",
        "no-content-digest",
        "checking",
        "checking-other-template",
        "lease-ran-out",
        "dead-other-template",
        "no-lease",
        "discarding",
    ],
)
def test_next_step(existing: CampaignClaim, step: Step) -> None:
    assert next_step(existing, "t") is step


def test_the_content_digest_covers_every_row_in_order_and_the_template() -> None:
    def digest(rows: list[str | dict[str, str]], template: str = "t") -> str:
        content = ContentDigest(template)
        content.add(rows)
        return content.hexdigest()

    rows: list[str | dict[str, str]] = [{"phone": "1", "name": "Ann"}, "2"]
    assert digest(rows) == digest([{"name": "Ann", "phone": "1"}, "2"]), "column order is not content"
    assert digest(rows) != digest(rows[::-1])
    assert digest(rows) != digest(rows, template="u")
    assert digest(["12", "3"]) != digest(["1", "23"])
    assert digest(rows) != digest(rows[:1])


def test_the_template_digest_covers_the_template_and_the_options() -> None:
    base = template_digest(TEMPLATE, call_options(priority=None))
    assert base == template_digest(TEMPLATE, call_options(priority=None))
    assert base != template_digest(TEMPLATE, call_options(priority="bulk"))
    other = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Hi {name}!"})
    assert base != template_digest(other, call_options(priority=None))
