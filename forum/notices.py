"""Whom the forum tells, and what its messages say.

An agency on a meeting's register is told through its representative and
deputy for the forum (for an agency added to one meeting, the representative
named on the register), else its key contact, else its partner leads: never
anyone who has left, never a closed account (:mod:`agencies.messaging`).

Every message is a link into the hub with the meeting's date and the
forum's name, and case labels where it is about a case: never a woman's
name, never the text of a case, an action or the minutes. Each carries a
dedupe key, so a job or a button run twice tells nobody twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from agencies import messaging
from agencies.models import Agency
from forum.models import Forum, ForumAction, ForumMember, Meeting, MeetingAttendance
from hub.auth.models import User
from hub.db import db
from hub.notifications.services import Message, notify_many

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Recipient:
    key: str  # "c12" (a contact) or "u7" (an account)
    user: User | None
    email: str


def when(meeting: Meeting) -> str:
    local = meeting.starts_at.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"


def _reach(contact_ids: Iterable[int | None]) -> list[Recipient]:
    reach = messaging.reach_of(c for c in contact_ids if c)
    return [Recipient(f"c{r.contact.id}", r.user, r.contact.email) for r in reach.values() if r.reachable]


def agency_recipients(meeting: Meeting) -> dict[int, list[Recipient]]:
    """For each agency on the register, whom to tell: a fixed number of queries for any number of agencies."""
    lines = list(db.session.scalars(sa.select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting.id)))
    members = {m.agency_id: m for m in db.session.scalars(
        sa.select(ForumMember).where(ForumMember.forum_id == meeting.forum_id))}  # fmt: skip
    agencies = {
        a.id: a for a in db.session.scalars(sa.select(Agency).where(Agency.id.in_([x.agency_id for x in lines])))
    }
    wanted: dict[int, list[int | None]] = {}
    for line in lines:
        member = members.get(line.agency_id)
        named = [member.representative_contact_id, member.deputy_contact_id] if member else []
        wanted[line.agency_id] = [*named, line.representative_contact_id, agencies[line.agency_id].key_contact_id]
    reach = messaging.reach_of(c for ids in wanted.values() for c in ids if c)
    found: dict[int, list[Recipient]] = {}
    for agency_id, ids in wanted.items():
        named = [i for i in ids[:-1] if i]
        chosen = [reach[i] for i in dict.fromkeys(named) if i in reach and reach[i].reachable]
        if not chosen and ids[-1] and ids[-1] in reach and reach[ids[-1]].reachable:
            chosen = [reach[ids[-1]]]
        found[agency_id] = [Recipient(f"c{r.contact.id}", r.user, r.contact.email) for r in chosen]
    leads = messaging.leads_of(a for a, people in found.items() if not people)
    for agency_id, users in leads.items():
        found[agency_id] = [Recipient(f"u{u.id}", u, "") for u in users]
    return found


def _send(kind: str, subject: str, body: str, link: str, key: str, people: Iterable[Recipient]) -> int:
    return len(notify_many([Message(kind, subject, body, link, f"{key}:{p.key}", user=p.user, email=p.email)
                            for p in people]))  # fmt: skip


def _to_register(meeting: Meeting, kind: str, subject: str, body: str, link: str, key: str) -> int:
    people = {p.key: p for group in agency_recipients(meeting).values() for p in group}
    return _send(kind, subject, body, link, key, people.values())


def agenda(meeting: Meeting, forum: Forum) -> int:
    body = (f"The agenda for {forum.name} on {when(meeting)} is ready in the hub. It is not attached: open it "
            "with the link (sign in first). Cases show by their labels; a case is heard only by the agencies "
            "allowed to hear it.")  # fmt: skip
    return _to_register(meeting, "forum.agenda", f"Agenda: {forum.name}, {when(meeting)}", body,
                        f"/forum/meetings/{meeting.id}/agenda", f"forum:agenda:{meeting.id}")  # fmt: skip


def cancelled(meeting: Meeting, forum: Forum) -> int:
    body = f"{forum.name} on {when(meeting)} is cancelled: {meeting.cancel_reason}. Open actions carry forward."
    return _to_register(meeting, "forum.cancelled", f"Cancelled: {forum.name}, {when(meeting)}", body,
                        f"/forum/meetings/{meeting.id}", f"forum:cancelled:{meeting.id}")  # fmt: skip


def minutes(meeting: Meeting, forum: Forum) -> int:
    agreed = "agreed " if meeting.minutes_agreed_at else ""
    body = (f"The {agreed}minutes of {forum.name} on {when(meeting)} are ready to read in the hub (sign in "
            "first). They are not attached, and are not to be copied or passed on without the agreement of "
            "the agencies concerned. Each case's section shows only to the agencies that heard it.")  # fmt: skip
    return _to_register(meeting, "forum.minutes", f"Minutes: {forum.name}, {when(meeting)}", body,
                        f"/forum/meetings/{meeting.id}/minutes",
                        f"forum:minutes:{meeting.id}:{agreed or 'draft'}")  # fmt: skip


def action_recipients(actions: Iterable[ForumAction]) -> dict[int, list[Recipient]]:
    """For each action, its named owner, else its agency's key contact, else its leads. Fixed queries."""
    todo = list(actions)
    agencies = {
        a.id: a for a in db.session.scalars(sa.select(Agency).where(Agency.id.in_({x.agency_id for x in todo})))
    }
    reach = messaging.reach_of([x.owner_contact_id for x in todo if x.owner_contact_id] +
                               [a.key_contact_id for a in agencies.values() if a.key_contact_id])  # fmt: skip
    found: dict[int, list[Recipient]] = {}
    lacking: list[ForumAction] = []
    for action in todo:
        for candidate in (action.owner_contact_id, agencies[action.agency_id].key_contact_id):
            way = reach.get(candidate) if candidate else None
            if way is not None and way.reachable:
                found[action.id] = [Recipient(f"c{way.contact.id}", way.user, way.contact.email)]
                break
        else:
            lacking.append(action)
    leads = messaging.leads_of(x.agency_id for x in lacking)
    for action in lacking:
        found[action.id] = [Recipient(f"u{u.id}", u, "") for u in leads.get(action.agency_id, [])]
    return found


def action_message(action: ForumAction, forum: Forum, label: str, kind: str, on: dt.date) -> tuple[str, str]:
    about = f" (case {label})" if label else ""
    if kind == "overdue":
        subject = f"Forum action {action.reference} is overdue"
        body = f"Action {action.reference}{about}, agreed at {forum.name}, was due on {action.due_on:%-d %B %Y}."
    else:
        subject = f"Forum action {action.reference} is due on {action.due_on:%-d %B}"
        body = f"Action {action.reference}{about}, agreed at {forum.name}, is due on {action.due_on:%-d %B %Y}."
    body += " Open it in the hub to see what was agreed and to say how it went."
    return subject, body
