"""Subscribers to the signals of the packages below: consent and the directory."""

from __future__ import annotations

from typing import Any

from agencies import signals as directory_signals
from consent import signals as consent_signals
from hub.auth.models import User
from hub.permissions import SYSTEM
from referrals import services


def _basis_ended(record: Any, reason: str, actor: Any = None, **_kw: Any) -> None:
    services.hold_for_lost_basis(record, reason, actor or SYSTEM)


def _contact_left(contact: Any, takeover: Any = None, actor: Any = None, **_kw: Any) -> None:
    services.readdress_for_leaver(contact, takeover, actor or SYSTEM)


def _staff_offboarded(
    leaver: User, assignments: dict[str, int], default_user_id: int | None = None, actor: Any = None, **_kw: Any
) -> None:
    services.reassign_sender(leaver.id, default_user_id, actor or SYSTEM)


def _handover_items(leaver: User, **_kw: Any) -> list[tuple[str, list[str]]]:
    lines = services.open_referral_lines(leaver.id)
    return [("Open referrals they sent", lines)] if lines else []


def connect() -> None:
    from referrals import views  # the section of her page is HTML: the web layer renders it

    # weak=False: these module-level functions must live as long as the app.
    consent_signals.basis_ended.connect(_basis_ended, weak=False)
    consent_signals.service_user_sections.connect(views.service_user_section, weak=False)
    directory_signals.contact_left.connect(_contact_left, weak=False)
    directory_signals.staff_offboarded.connect(_staff_offboarded, weak=False)
    directory_signals.handover_items.connect(_handover_items, weak=False)
