"""Database kernel: the declarative base, column types and the unit of work.

Invariants:
- Constraint names follow one naming convention, so migrations are stable.
- Datetimes are stored in UTC and always come back timezone-aware, on
  PostgreSQL and on SQLite alike.
- Services only ``flush``; :func:`unit_of_work` at the edge (a request, a
  job run, a CLI command) commits once, or rolls everything back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC that always loads timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _SessionModel

    class Model(_SessionModel, Base):
        """What ``db.Model`` is, spelt so a type checker can use it as a base class."""

else:
    Model = db.Model  # the model base every table is declared on


MAX_ID = 2_147_483_647  # PostgreSQL integer: larger ids cannot exist


def existing_id(value: int) -> int:
    """An id from a URL that could exist; larger ones are simply not found (never a 500)."""
    from hub.permissions import NotFound

    if value > MAX_ID:
        raise NotFound("No such resource.")
    return value


REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud over the phone


def new_reference(prefix: str, column: Any) -> str:
    """A short random reference such as ``R-7KQM-X3PA``, unique in ``column``."""
    import secrets

    while True:
        code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
        reference = f"{prefix}-{code[:4]}-{code[4:]}"
        if not db.session.scalar(sa.select(column).where(column == reference)):
            return reference


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def london_date(moment: dt.datetime) -> dt.date:
    """The date of a moment in the hub's home time zone (Europe/London)."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/London")).date()


def today() -> dt.date:
    """Today's date in the hub's home time zone (Europe/London)."""
    return london_date(utcnow())


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def enum_column(enum_cls: type, name: str, **kwargs: Any) -> sa.Enum:
    """A portable enum stored by value, with a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        **kwargs,
    )


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


@contextlib.contextmanager
def unit_of_work() -> Iterator[Any]:
    """Commit once at the edge; roll back everything if anything fails."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
