"""What the store takes and gives back, and the pure decoding of its Redis hashes into them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise


@dataclass(frozen=True, slots=True)
class NewMessage:
    """What the producer hands to the store: one message, its wire item already encoded."""

    id: str
    lane: str
    provider: str
    wire: bytes  # JSON of the wire item, without the request tag
    #: No attempts after this long from its intake: the store sets the deadline (``dl``) by Redis'
    #: clock, so a producer's own clock never shortens or stretches it.
    ttl_s: float
    campaign: str | None = None
    idempotency_key: str | None = None
    #: ``sms``, ``vk``, ``voicecode``, ``flashcall`` or ``rcs``, for statistics ("" = not known).
    channel: str = ""
    #: What the idempotency key stands for: a digest of the request that set it. Reusing the key
    #: with a request of another digest is a conflict, never a silent replay.
    request_digest: str = ""


@dataclass(frozen=True, slots=True)
class BatchItem:
    id: str
    wire: bytes
    attempts: int
    deadline: float


@dataclass(frozen=True, slots=True)
class Batch:
    id: str
    lane: str
    state: str  # "taken" | "posting"
    items: tuple[BatchItem, ...]
    tag: str | None
    posting_at: float | None
    #: Messages ``take_batch`` finished instead of taking (their deadline had passed): never sent
    #: (``expired``), or after earlier attempts (``failed``).
    expired: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    """One line of a message's history; ``reason`` starts with ``ignored:`` for a refused move."""

    at: float
    source: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: str
    state: str
    lane: str
    provider: str
    wire: bytes
    campaign: str | None
    created_at: float
    deadline: float
    attempts: int
    provider_message_id: str | None
    reason: str | None
    history: tuple[Transition, ...]
    #: sms, voicecode, flashcall, vk or rcs ("" for a record stored before channels were kept).
    channel: str = ""


@dataclass(frozen=True, slots=True)
class LaneInfo:
    name: str
    depth: int
    paused: str | None
    paused_for_s: float | None  # None: paused until resumed (or not paused)
    runners: int


#: A hash as HGETALL returns it on the store's client (``decode_responses=False``).
RawHash = Mapping[bytes, bytes]


def decoded(value: bytes | str) -> str:
    """Text of a reply; the store's client returns bytes (typed ``bytes | str`` by redis-py)."""
    return value.decode() if isinstance(value, bytes) else value


def one_line(text: str) -> str:
    """``text`` fit for a history line: the history is newline-separated."""
    return " ".join(text.split())


def parse_history(raw: bytes) -> tuple[Transition, ...]:
    """Decode the ``h`` field: one ``<epoch ms> <from> <to> <reason>`` per line."""
    transitions = []
    for line in raw.decode().splitlines():
        at_ms, source, target, reason = [*line.split(" ", 3), ""][:4]
        transitions.append(Transition(int(at_ms) / 1000, source, target, reason))
    return tuple(transitions)


def _text(fields: RawHash, name: bytes) -> str | None:
    value = fields.get(name)
    return value.decode() if value is not None else None


def message_from_hash(message_id: str, fields: RawHash) -> MessageRecord:
    """A message record from its hash, as HGETALL returns it."""
    return MessageRecord(
        id=message_id,
        state=fields[b"st"].decode(),
        lane=fields[b"ln"].decode(),
        provider=fields[b"pv"].decode(),
        wire=fields[b"w"],
        campaign=_text(fields, b"cp"),
        created_at=float(fields[b"ct"]),
        deadline=float(fields[b"dl"]),
        attempts=int(fields.get(b"at", b"0")),
        provider_message_id=_text(fields, b"pid"),
        reason=_text(fields, b"rs"),
        history=parse_history(fields.get(b"h", b"")),
        channel=_text(fields, b"ch") or "",
    )


def batch_items_from_reply(reply: Sequence[bytes]) -> tuple[BatchItem, ...]:
    """Items from the packed reply of ``take_batch.lua``: ids, attempts, deadlines and wire lengths
    space-joined, then the wire items concatenated (then counts this ignores)."""
    ids, attempts, deadlines, wire_lengths, wires = reply[:5]
    # Whole-reply splits and conversions: this runs for every message the pipeline sends.
    offsets = [0, *accumulate(map(int, wire_lengths.split()))]
    return tuple(
        BatchItem(message_id, wire, attempt_count, deadline)
        for message_id, wire, attempt_count, deadline in zip(
            ids.decode().split(),
            [wires[start:end] for start, end in pairwise(offsets)],
            map(int, attempts.split()),
            map(float, deadlines.split()),
            strict=True,
        )
    )


def batch_from_hash(batch_id: str, fields: RawHash, items: tuple[BatchItem, ...]) -> Batch:
    """A batch from its hash and its items' current fields."""
    posting_at = fields.get(b"ps")
    return Batch(
        id=batch_id,
        lane=fields[b"ln"].decode(),
        state=fields[b"st"].decode(),
        items=items,
        tag=_text(fields, b"tag"),
        posting_at=float(posting_at) if posting_at is not None else None,
    )


def batch_member_ids(fields: RawHash) -> list[str]:
    """The ids still unrecorded in a batch hash (space-joined in ``ids``)."""
    return fields.get(b"ids", b"").decode().split()
