"""The append-only, hash-chained audit log.

Every change and every sign-in attempt is recorded: who (actor kind and id),
what (action, object type and id, and non-personal details such as the names
of the fields that changed), when (UTC) and from where (IP address and
channel). Personal details never go in clear: an email address that failed
to sign in is kept only as a keyed hash.

Each entry stores the hash of the entry before it, so editing, deleting or
reordering rows breaks the chain; :func:`verify_chain` names the first entry
that no longer fits. On PostgreSQL triggers also refuse DELETE, TRUNCATE and
any UPDATE but one: sealing.

Writing an entry takes no lock: :func:`record` adds it *unsealed* (no
sequence number or hash yet), in the writer's own transaction, so audited
writes never wait for each other's commits. :func:`seal` then links the
committed unsealed entries into the chain, in the order they were written,
in a short transaction of its own under an advisory lock (the scheduler's
``hub.seal-audit`` job runs it every few seconds, and ``hub audit verify``
before checking), so the chain never forks. Until then an entry is protected
by the trigger (it can be sealed, nothing else), not yet by the chain.

What the chain alone cannot show: the newest entries deleted, or an entry
rewritten with every later hash recomputed (by someone who can bypass the
triggers). So :func:`verify_chain` reports the newest entry's sequence number
and hash for an outside witness to record, and checks an earlier witnessed
head: that entry must still be there, with the same hash.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Model, db, is_postgres, utcnow
from hub.permissions import Actor

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 7_262_001  # arbitrary, constant: the audit chain's advisory lock


@dataclass(frozen=True)
class Origin:
    """Where a change came from. Set at the edge (request, job, command)."""

    channel: str = "system"  # web | api | cli | scheduler | system
    ip: str | None = None


_origin: contextvars.ContextVar[Origin] = contextvars.ContextVar(
    "hub_origin",
    default=Origin(),  # noqa: B039 - Origin is a frozen dataclass
)


def set_origin(origin: Origin) -> contextvars.Token[Origin]:
    return _origin.set(origin)


def current_origin() -> Origin:
    return _origin.get()


class AuditEvent(Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set when sealed into the chain (null until then): its place, the previous entry's hash, its hash.
    seq: Mapped[int | None] = mapped_column(unique=True)
    occurred_at: Mapped[dt.datetime]
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[int | None]
    actor_agency_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(32))
    object_id: Mapped[int | None]
    channel: Mapped[str] = mapped_column(sa.String(16))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)

    def canonical(self) -> str:
        """The exact text that is hashed: every column but ``id`` and ``hash``."""
        return json.dumps(
            {
                "seq": self.seq,
                "occurred_at": self.occurred_at.astimezone(dt.UTC).isoformat(),
                "actor_kind": self.actor_kind,
                "actor_id": self.actor_id,
                "actor_agency_id": self.actor_agency_id,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "channel": self.channel,
                "ip": self.ip,
                "data": self.data,
                "prev_hash": self.prev_hash,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


def pseudonym(value: str, key: str) -> str:
    """A keyed hash for a personal detail that must be matchable, not readable."""
    return hmac.new(key.encode(), value.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def record(
    actor: Actor | None,
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    """Add one entry, unsealed (flushed, not committed; :func:`seal` links it into the chain).

    ``data`` must hold ids, codes and field names only, never personal details.
    """
    if obj is not None:
        object_type = object_type or type(obj).__tablename__.rstrip("s")
        object_id = object_id if object_id is not None else obj.id
    origin = current_origin()
    event = AuditEvent(
        occurred_at=utcnow().replace(microsecond=0),
        actor_kind=actor.actor_kind if actor is not None else "anonymous",
        actor_id=actor.actor_id if actor is not None else None,
        actor_agency_id=actor.agency_id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        channel=origin.channel,
        ip=origin.ip,
        data=json.loads(json.dumps(data, default=str)),
    )
    db.session.add(event)
    db.session.flush()
    return event


SEAL_BATCH = 5000


def seal(limit: int = SEAL_BATCH) -> int:
    """Link committed unsealed entries into the chain, oldest first (flushed; the caller commits,
    soon: the lock is held until then). Returns how many were sealed."""
    if is_postgres():
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHAIN_LOCK_KEY)))
    last = db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (int(last.seq), str(last.hash)) if last else (0, GENESIS)
    pending = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(limit)
    ).all()
    for event in pending:
        seq += 1
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = prev_hash = event.compute_hash()
    db.session.flush()
    return len(pending)


def unsealed() -> int:
    """Entries written but not yet linked into the chain."""
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.seq.is_(None))) or 0


@dataclass(frozen=True)
class WitnessedHead:
    """The newest entry as an outside witness recorded it: its sequence number and hash."""

    seq: int
    hash: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str | None = None
    # The newest entry that fits (0 and None for an empty chain).
    head_seq: int = 0
    head_hash: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(batch: int = 2000, expected_head: WitnessedHead | None = None) -> ChainReport:
    """Walk the chain in order; report the first entry that does not fit.

    With ``expected_head``, the chain must still hold that entry with that
    hash: else its newest entries were deleted, or it was rewritten.
    """
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            head_hash = prev_hash if last_seq else None
            if event.seq != expected_seq:
                return ChainReport(checked, expected_seq, f"entry {expected_seq} is missing", last_seq, head_hash)
            if event.prev_hash != prev_hash:
                return ChainReport(checked, event.seq, "does not link to the entry before it", last_seq, head_hash)
            if event.compute_hash() != event.hash:
                reason = "its contents were changed after it was written"
                return ChainReport(checked, event.seq, reason, last_seq, head_hash)
            if expected_head is not None and event.seq == expected_head.seq and event.hash != expected_head.hash:
                reason = (
                    f"its hash is not the witnessed one (sha256 {expected_head.hash}): "
                    "the log was rewritten at or before this entry"
                )
                return ChainReport(checked, event.seq, reason, last_seq, head_hash)
            prev_hash, expected_seq, last_seq = event.hash, expected_seq + 1, event.seq
            checked += 1
        db.session.expunge_all()
    head_hash = prev_hash if last_seq else None
    if expected_head is not None and last_seq < expected_head.seq:
        reason = (
            f"it was witnessed, but the newest entry is now {last_seq or 'none'}: "
            "entries were deleted from the end of the log"
        )
        return ChainReport(checked, expected_head.seq, reason, last_seq, head_hash)
    return ChainReport(checked, head_seq=last_seq, head_hash=head_hash)
