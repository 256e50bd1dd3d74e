"""``Idempotency-Key`` for API creates: a retried request creates nothing new.

The key is stored in the same transaction as what the request created, with
a fingerprint of the request body. A repeat with the same body gets the
stored response; the same key with a different body is refused (422); two
copies racing each other: the second gets 409 (the unique constraint).
Keys are kept at least ``HUB_IDEMPOTENCY_KEY_DAYS`` days (7 unless set), then
forgotten by the nightly housekeeping job (:func:`purge`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Model, db, utcnow
from hub.permissions import Invalid

KEY_MAX = 200


class IdempotencyKey(Model):
    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who used the key: "client:<id>" or "user:<id>"; keys are per caller.
    owner: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(KEY_MAX))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("owner", "key", name="uq_idempotency_keys_owner_key"),)


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise Invalid(
            "Idempotency-Key must be 1 to 200 printable characters.", errors={"Idempotency-Key": ["Use a UUID"]}
        )
    return key


def replay(owner: str, key: str, body: Any) -> tuple[int, dict[str, Any]] | None:
    """The stored response for this key, or None if the key is new."""
    row = db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.owner == owner, IdempotencyKey.key == key))
    if row is None:
        return None
    if row.request_hash != fingerprint(body):
        raise Invalid(
            "This Idempotency-Key was used with a different request.",
            errors={"Idempotency-Key": ["Already used for a different request"]},
        )
    return row.status_code, row.response


def remember(owner: str, key: str, body: Any, status_code: int, response: dict[str, Any]) -> None:
    db.session.add(
        IdempotencyKey(
            owner=owner,
            key=key,
            request_hash=fingerprint(body),
            status_code=status_code,
            response=json.loads(json.dumps(response, default=str)),
        )
    )
    db.session.flush()


def purge(older_than: dt.datetime) -> int:
    """Forget the keys used before ``older_than``, in one statement. Returns how many."""
    result = db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
