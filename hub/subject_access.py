"""Her subject-access pack, gathered from every package (``ARCHITECTURE.md``: a provider registry).

A package registers a provider in its ``init_app``::

    hub.subject_access.register(app, referral_sections)

A provider is a callable ``(service_user_id) -> list[Section]``: what that package holds about her, as
plain text in rows, in a fixed number of statements. ``consent`` (which holds her record) makes the pack
from every section and records it as given to her (``consent.services.make_subject_access_pack``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from hub import registry

NAME = "subject_access"
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    explanation: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "explanation": self.explanation,
                "records": [dict(zip(self.columns, row, strict=True)) for row in self.rows]}  # fmt: skip


Provider = Callable[[int], list[Section]]


def register(app: Flask, provider: Provider) -> None:
    registry.register(app, NAME, provider)


def gather(service_user_id: int) -> list[Section]:
    providers: list[Provider] = registry.providers(NAME)
    return [s for provider in providers for s in provider(service_user_id)]


def when(value: Any) -> str:
    """A date or a time as the pack writes it (times in London, to the minute)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        local = value.astimezone(LONDON)
        return f"{local:%-d %B %Y}, {local:%H:%M}"
    return f"{value:%-d %B %Y}"
