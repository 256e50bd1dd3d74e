"""Subscribers to the signals of the packages below: a basis for sharing ended."""

from __future__ import annotations

from typing import Any

from consent import signals as consent_signals
from consent.sharing import BasisRef
from hub.permissions import SYSTEM
from referrals import services


def _basis_ended(ref: BasisRef, reason: str, actor: Any = None, **_kw: Any) -> None:
    services.hold_for_lost_basis(actor or SYSTEM, ref, reason)


def connect() -> None:
    # weak=False: a module-level function that must live as long as the app.
    consent_signals.basis_ended.connect(_basis_ended, weak=False)
