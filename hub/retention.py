"""Retention of her record, gathered from every package (``ARCHITECTURE.md``: provider registries).

- ``retention_last_contact``: callables ``() -> list[Select]``, each a ``SELECT`` of ``id`` (her
  ``service_users.id``) and ``day`` (a London date of something the package recorded about her); her last
  contact is the latest of them all.
- ``retention_reducers``: callables ``(service_user_ids) -> int`` that erase, set-based, every piece of
  personal data the package holds about those women, keeping the anonymous rows the reports count (a
  referral's agency, status and times; a custody episode's dates), and return how many rows they changed.
  They run upper packages first; ``consent`` (which holds her record) runs them and then erases her name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from flask import Flask

from hub import registry

LAST_CONTACT = "retention_last_contact"
REDUCERS = "retention_reducers"

LastContact = Callable[[], list[sa.Select[Any]]]
Reducer = Callable[[Sequence[int]], int]


def register(app: Flask, last_contact: LastContact, reducer: Reducer) -> None:
    registry.register(app, LAST_CONTACT, last_contact)
    registry.register(app, REDUCERS, reducer)


def last_contact_selects() -> list[sa.Select[Any]]:
    providers: list[LastContact] = registry.providers(LAST_CONTACT)
    return [s for provider in providers for s in provider()]


def reduce_all(service_user_ids: Sequence[int]) -> int:
    """Every package's reducer, upper packages first (the reverse of the order they were loaded)."""
    providers: list[Reducer] = registry.providers(REDUCERS)
    return sum(reducer(service_user_ids) for reducer in reversed(providers))
