"""The forum agenda's suggestions: what each package thinks the partnership should talk about.

A package registers a provider in its ``init_app``::

    hub.suggestions.register(app, referral_suggestions)

A provider is a callable ``(agency_ids, on) -> list[Suggestion]``: for the
forum's member agencies on the meeting's day, a few lines naming agencies,
services and counts, never a woman. The forum (which never imports the
packages that provide them) reads them with :func:`gather`. Each provider
runs a fixed number of statements, so an agenda costs the same at any size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import Flask

from hub import registry

NAME = "forum_suggestions"


@dataclass(frozen=True)
class Suggestion:
    source: str  # which part of the hub suggests it: "referrals", "releases", "rota", "directory"
    title: str
    detail: str = ""
    agency_id: int | None = None
    link: str = ""


Provider = Callable[[Sequence[int], dt.date], list[Suggestion]]


def register(app: Flask, provider: Provider) -> None:
    registry.register(app, NAME, provider)


def gather(agency_ids: Sequence[int], on: dt.date) -> list[Suggestion]:
    providers: list[Provider] = registry.providers(NAME)
    return [s for provider in providers for s in provider(list(agency_ids), on)]
