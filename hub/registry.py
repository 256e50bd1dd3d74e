"""Provider registries: how a page or job gathers something from every
package without importing them (``ARCHITECTURE.md``).

Each domain package registers its providers in its ``init_app``; the kernel
and the lower packages read them by name. The registries live on the
application (``app.extensions``), so two apps in one process (the tests)
never share them.

Registries in use:

- ``open_work`` (:mod:`hub.work`): what a person holds and how to hand it over;
- ``service_user_sections``: callables ``(person, actor) -> Markup | None``
  adding a section to a woman's page (her referrals, say);
- ``account_standing`` (:func:`hub.auth.services.standing`): callables
  ``() -> ColumnElement[bool]``, conditions on ``users`` that must all hold
  before an account signs in or acts (read with the account, in its query).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

_KEY = "hub_registries"


def register(app: Flask, name: str, provider: Any) -> None:
    """Add a provider to the registry ``name``, once."""
    registries: dict[str, list[Any]] = app.extensions.setdefault(_KEY, {})
    entries = registries.setdefault(name, [])
    if provider not in entries:
        entries.append(provider)


def providers(name: str, app: Flask | None = None) -> list[Any]:
    """The providers registered under ``name``, in the order the packages were loaded."""
    target = app or current_app
    registries: dict[str, list[Any]] = target.extensions.get(_KEY, {})
    return list(registries.get(name, []))
