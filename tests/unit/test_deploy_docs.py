"""docs/configuration.md documents every setting: its environment variable and its default."""

from __future__ import annotations

from pathlib import Path

from dispatcher.settings import DEFAULT_PROVIDERS_FILE, Settings

ROOT = Path(__file__).resolve().parents[2]


def _documented_default(default: object) -> str:
    if default is None:
        return "unset"
    if default == DEFAULT_PROVIDERS_FILE:
        return DEFAULT_PROVIDERS_FILE.name
    return f"`{default}`"


def test_every_setting_has_a_row_with_its_variable_and_default() -> None:
    rows = {
        line.split("|")[1].strip(): line
        for line in (ROOT / "docs" / "configuration.md").read_text().splitlines()
        if line.startswith("| `")
    }
    assert len(Settings.model_fields) >= 30
    for name, field in Settings.model_fields.items():
        row = rows.get(f"`{name}`")
        assert row is not None, f"docs/configuration.md has no row for setting {name}"
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        assert cells[1] == f"`DISPATCHER_{name.upper()}`", row
        assert _documented_default(field.default) in cells[2], row
        assert len(cells[3]) > 20, f"{name}: say what it means"


def test_operations_guide_covers_the_topics() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    for heading in (
        "## Scaling workers across machines",
        "## Redis: persistence and high availability",
        "## RabbitMQ as the broker",
        "## Rotating credentials",
        "## Pausing and resuming lanes",
        "## Reading Flower",
    ):
        assert heading in text
