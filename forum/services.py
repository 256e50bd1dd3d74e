"""The forum's use cases: one function each, ``verb_noun(actor, ...)``.

Each checks the policy named after it, keeps the invariants, writes the
audit event and flushes; the caller commits.

- A case is nominated only when at least one agency in the room may hear it
  (422 with ``missing`` otherwise); its audience is recomputed at every
  question (:mod:`forum.audience`).
- Holding a meeting writes who heard each case, on what basis, and records
  each as a disclosure; it creates the forum's next meeting.
- Minutes change until agreed; after that every change is refused (409).
- Messages (agendas, minutes, reminders) are links with case labels: never
  her name, never what was said.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from agencies.models import Agency, AgencyKind, Contact, ContactStatus
from consent import sharing
from consent.models import DisclosureKind, ServiceUser
from forum import audience as audiences
from forum import notices, policies, queries, recurrence
from forum.models import (
    UPCOMING,
    ActionStatus,
    AttendanceStatus,
    CaseHearing,
    Forum,
    ForumAction,
    ForumCase,
    ForumMember,
    Meeting,
    MeetingAttendance,
    MeetingObserver,
    MeetingStatus,
    MinutesRevision,
)
from hub import audit
from hub.auth.models import User
from hub.db import db, london_date, new_reference, today, utcnow
from hub.permissions import Actor, Conflict, Invalid, NotFound, require
from hub.workdays import add_working_days

CASE_CONTEXT = "forum_case"


# Forums ----------------------------------------------------------------------------------------


def _partner_agency(agency_id: int, field: str = "member_agency_ids") -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.kind is AgencyKind.HOST:
        raise Invalid.on_field(field, f"No partner agency {agency_id}")
    return agency


def _contact_of(agency_id: int, contact_id: int | None, field: str) -> int | None:
    if contact_id is None:
        return None
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.agency_id != agency_id or contact.status is not ContactStatus.ACTIVE:
        raise Invalid.on_field(field, "Choose someone at that agency who has not left")
    return contact.id


def _chair(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not user.role.is_staff:
        raise Invalid.on_field("chair_user_id", "The chair is one of our staff with an open account")
    return user.id


_FORUM_FIELDS = ("name", "venue", "weekday", "week_of_month", "starts_at", "duration_minutes", "agenda_days",
                 "minutes_days", "confidentiality", "standing_items")  # fmt: skip


def create_forum(actor: Actor, data: dict[str, Any]) -> Forum:
    require(policies.can_create_forum(actor), "Only our managers set up forums.")
    forum = Forum(chair_user_id=_chair(data.get("chair_user_id")))
    for name in _FORUM_FIELDS:
        if data.get(name) is not None:
            setattr(forum, name, data[name])
    db.session.add(forum)
    db.session.flush()
    for agency_id in dict.fromkeys(data.get("member_agency_ids") or []):
        _partner_agency(agency_id)
        db.session.add(ForumMember(forum_id=forum.id, agency_id=agency_id))
    db.session.flush()
    audit.record(actor, "forum.created", forum, members=sorted(set(data.get("member_agency_ids") or [])))
    return forum


def edit_forum(actor: Actor, forum: Forum, data: dict[str, Any]) -> Forum:
    require(policies.can_edit_forum(actor), "Only our managers change a forum.")
    if "chair_user_id" in data:
        forum.chair_user_id = _chair(data["chair_user_id"])
    for name in _FORUM_FIELDS:
        if name in data and data[name] is not None:
            setattr(forum, name, data[name])
    db.session.flush()
    audit.record(actor, "forum.changed", forum, fields=sorted(data))
    return forum


def set_member(actor: Actor, forum: Forum, agency_id: int, data: dict[str, Any]) -> ForumMember:
    """Add an agency to the forum, or change its representative and deputy. It joins the register of
    every meeting still to come."""
    require(policies.can_set_member(actor), "Only our managers change a forum's members.")
    _partner_agency(agency_id, "agency_id")
    member = db.session.scalar(sa.select(ForumMember).where(ForumMember.forum_id == forum.id,
                                                            ForumMember.agency_id == agency_id))  # fmt: skip
    if member is None:
        member = ForumMember(forum_id=forum.id, agency_id=agency_id)
        db.session.add(member)
    member.representative_contact_id = _contact_of(agency_id, data.get("representative_contact_id"),
                                                   "representative_contact_id")  # fmt: skip
    member.deputy_contact_id = _contact_of(agency_id, data.get("deputy_contact_id"), "deputy_contact_id")
    db.session.flush()
    for meeting in db.session.scalars(sa.select(Meeting).where(Meeting.forum_id == forum.id,
                                                               Meeting.status.in_(UPCOMING))):  # fmt: skip
        _invite(meeting, agency_id, member.representative_contact_id)
    audit.record(actor, "forum.member_set", forum, agency_id=agency_id)
    return member


def remove_member(actor: Actor, forum: Forum, agency_id: int) -> None:
    require(policies.can_remove_member(actor), "Only our managers change a forum's members.")
    member = db.session.scalar(sa.select(ForumMember).where(ForumMember.forum_id == forum.id,
                                                            ForumMember.agency_id == agency_id))  # fmt: skip
    if member is None:
        raise NotFound("That agency is not a member.")
    db.session.delete(member)
    db.session.flush()
    audit.record(actor, "forum.member_removed", forum, agency_id=agency_id)


# Meetings --------------------------------------------------------------------------------------


def _invite(meeting: Meeting, agency_id: int, representative_id: int | None = None) -> MeetingAttendance:
    line = db.session.scalar(sa.select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting.id,
                                                                MeetingAttendance.agency_id == agency_id))  # fmt: skip
    if line is None:
        line = MeetingAttendance(meeting_id=meeting.id, agency_id=agency_id,
                                 representative_contact_id=representative_id)  # fmt: skip
        db.session.add(line)
        db.session.flush()
    return line


def schedule_meeting(actor: Actor, forum: Forum, data: dict[str, Any]) -> Meeting:
    """A meeting of the forum at ``starts_at``: every member agency invited (409 if one is at that moment)."""
    require(policies.can_schedule_meeting(actor) or policies.can_run_meeting(actor, forum),
            "Only our managers and the chair schedule meetings.")  # fmt: skip
    starts_at: dt.datetime = data["starts_at"]
    if starts_at <= utcnow():
        raise Invalid.on_field("starts_at", "Choose a time that has not passed")
    if starts_at.year >= dt.MAXYEAR:  # its end (and the calendar's) would fall past the last representable day
        raise Invalid.on_field("starts_at", "Choose a date before the year 9999")
    if db.session.scalar(sa.select(Meeting.id).where(Meeting.forum_id == forum.id, Meeting.starts_at == starts_at)):
        raise Conflict("The forum already meets at that time.")
    meeting = Meeting(forum_id=forum.id, starts_at=starts_at,
                      ends_at=starts_at + dt.timedelta(minutes=forum.duration_minutes),
                      venue=data.get("venue") or forum.venue)  # fmt: skip
    db.session.add(meeting)
    db.session.flush()
    for member in queries.members_of(forum.id):
        _invite(meeting, member.agency_id, member.representative_contact_id)
    audit.record(actor, "forum_meeting.scheduled", meeting, forum_id=forum.id)
    return meeting


def _next_meeting(actor: Actor, forum: Forum, after: Meeting) -> Meeting | None:
    """The forum's next meeting by its pattern, unless one is already planned after ``after``."""
    later = db.session.scalar(sa.select(Meeting.id).where(Meeting.forum_id == forum.id,
                                                          Meeting.starts_at > after.starts_at,
                                                          Meeting.status != MeetingStatus.CANCELLED))  # fmt: skip
    if later is not None:
        return None
    day = recurrence.next_meeting_day(max(london_date(after.starts_at), today()), forum.weekday, forum.week_of_month)
    return schedule_meeting(actor, forum, {"starts_at": recurrence.at_london(day, forum.starts_at)})


def _editable(meeting: Meeting, what: str) -> None:
    if meeting.status is MeetingStatus.CANCELLED:
        raise Conflict(f"The meeting was cancelled: {what} can no longer change.")
    if meeting.status is MeetingStatus.MINUTES_AGREED:
        raise Conflict(f"The minutes are agreed and locked: {what} can no longer change.")


def set_attendance(actor: Actor, meeting: Meeting, agency_id: int, data: dict[str, Any]) -> MeetingAttendance:
    """One line of the register (adding the agency if it was not invited): every case's audience follows."""
    forum = db.session.get_one(Forum, meeting.forum_id)
    require(policies.can_set_attendance(actor, forum, agency_id), "You answer for your own agency only.")
    _editable(meeting, "the register")
    _partner_agency(agency_id, "agency_id")
    status = AttendanceStatus(data["status"])
    if not meeting.upcoming and status is AttendanceStatus.INVITED:
        raise Invalid.on_field("status", "The meeting has been held: say who was present, sent apologies or was absent")
    if meeting.upcoming and status in (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT) and \
            london_date(meeting.starts_at) > today():  # fmt: skip
        raise Invalid.on_field("status", "Say who was present or absent on the day of the meeting")
    line = _invite(meeting, agency_id)
    line.status = status
    if "representative_contact_id" in data:
        line.representative_contact_id = _contact_of(agency_id, data["representative_contact_id"],
                                                     "representative_contact_id")  # fmt: skip
    if status is AttendanceStatus.APOLOGIES:
        if "information_sent" in data:
            line.information_sent = data["information_sent"]
            line.information_received_on = today() if data["information_sent"] else None
    else:
        line.information_sent, line.information_received_on = None, None
    db.session.flush()
    audit.record(actor, "forum_meeting.attendance", meeting, agency_id=agency_id, status=status.value)
    return line


def add_observer(actor: Actor, meeting: Meeting, data: dict[str, Any]) -> MeetingObserver:
    """An observer, once they have confirmed the confidentiality statement."""
    require(policies.can_add_observer(actor, db.session.get_one(Forum, meeting.forum_id)),
            "Only whoever runs the meeting adds observers.")  # fmt: skip
    _editable(meeting, "the register")
    if not data.get("confirmed"):
        raise Invalid.on_field("confirmed", "An observer confirms the confidentiality statement before the meeting")
    observer = MeetingObserver(meeting_id=meeting.id, name=data["name"], organisation=data.get("organisation", ""))
    db.session.add(observer)
    db.session.flush()
    audit.record(actor, "forum_meeting.observer", meeting, observer_id=observer.id)
    return observer


def send_agenda(actor: Actor, meeting: Meeting) -> int:
    """Send the agenda as a link to each member agency's representative and deputy (never an attachment).
    Sending again sends to nobody twice. Returns how many were told now."""
    forum = db.session.get_one(Forum, meeting.forum_id)
    require(policies.can_send_agenda(actor, forum), "Only whoever runs the meeting sends the agenda.")
    if not meeting.upcoming:
        raise Conflict("The agenda goes out before the meeting.")
    told = notices.agenda(meeting, forum)
    if meeting.status is MeetingStatus.PLANNED:
        meeting.status, meeting.agenda_sent_at = MeetingStatus.AGENDA_SENT, utcnow()
    db.session.flush()
    audit.record(actor, "forum_meeting.agenda_sent", meeting, told=told)
    return told


def hold_meeting(actor: Actor, meeting: Meeting, data: dict[str, Any]) -> Meeting | None:
    """The meeting took place: the confidentiality statement was read, who heard each case (and on what
    basis) is written down and recorded as a disclosure, the minutes fall due, and the next meeting is
    planned. Returns the next meeting (None if one was already planned)."""
    forum = db.session.get_one(Forum, meeting.forum_id)
    require(policies.can_hold_meeting(actor, forum), "Only whoever runs the meeting records it as held.")
    if not meeting.upcoming:
        raise Conflict("Only a meeting still to be held can be held.")
    if london_date(meeting.starts_at) > today():
        raise Conflict("A meeting is held on its day, not before.")
    if not data.get("confidentiality_read"):
        raise Invalid.on_field("confidentiality_read", "Read the confidentiality statement and say so")
    invited = [line for line in queries.register(meeting.id) if line.status is AttendanceStatus.INVITED]
    if invited:
        names = ", ".join(line.agency.name for line in invited)
        raise Invalid.on_field("register", f"Complete the register first: {names}")
    now = utcnow()
    meeting.status, meeting.held_at = MeetingStatus.HELD, now
    meeting.confidentiality, meeting.confidentiality_read_at = forum.confidentiality, now
    meeting.minutes_due_on = add_working_days(london_date(now), forum.minutes_days)
    cases = queries.cases_of(meeting.id)
    heard = audiences.of_meeting(meeting, cases)  # the room is now only those present
    shown: list[tuple[sharing.Basis, dict[str, Any]]] = []
    for case in cases:
        for agency_id, basis in heard[case.id].bases.items():
            hearing = CaseHearing(case_id=case.id, agency_id=agency_id)
            hearing.rest_on(basis)
            db.session.add(hearing)
            shown.append((basis, {"service_user_id": case.service_user_id, "agency_id": agency_id,
                                  "kind": DisclosureKind.SENT, "categories": audiences.CATEGORIES,
                                  "purpose": audiences.PURPOSE, "context": CASE_CONTEXT,
                                  "context_id": case.id}))  # fmt: skip
    sharing.disclose_many(actor, shown)
    db.session.flush()
    audit.record(actor, "forum_meeting.held", meeting, cases=len(cases), hearings=len(shown))
    return _next_meeting(actor, forum, meeting)


def cancel_meeting(actor: Actor, meeting: Meeting, reason: str) -> Meeting | None:
    """Cancel a meeting still to come; everyone invited is told; open actions wait for the next one."""
    forum = db.session.get_one(Forum, meeting.forum_id)
    require(policies.can_cancel_meeting(actor, forum), "Only whoever runs the meeting cancels it.")
    if not meeting.upcoming:
        raise Conflict("Only a meeting still to come can be cancelled.")
    meeting.status, meeting.cancel_reason = MeetingStatus.CANCELLED, reason
    db.session.flush()
    notices.cancelled(meeting, forum)
    audit.record(actor, "forum_meeting.cancelled", meeting)
    return _next_meeting(actor, forum, meeting)


# Cases -----------------------------------------------------------------------------------------


def nominate_case(actor: Actor, meeting: Meeting, data: dict[str, Any]) -> tuple[ForumCase, audiences.Audience]:
    """Put a woman on the agenda with a reason, where at least one agency in the room may hear it."""
    require(policies.can_nominate_case(actor), "Only our own staff nominate cases.")
    if not meeting.upcoming:
        raise Conflict("Cases are nominated before the meeting is held.")
    person = db.session.get(ServiceUser, data["service_user_id"])
    if person is None:
        raise Invalid.on_field("service_user_id", "No such service user")
    already = db.session.scalar(
        sa.select(ForumCase.id).where(
            ForumCase.meeting_id == meeting.id, ForumCase.service_user_id == person.id, ForumCase.withdrawn_at.is_(None)
        )
    )
    if already is not None:
        raise Conflict("She is already a case at this meeting.")
    case = ForumCase(meeting_id=meeting.id, service_user_id=person.id, reason=data["reason"],
                     label=new_reference("FC", ForumCase.label), nominated_by_kind=actor.actor_kind,
                     nominated_by_id=actor.actor_id,
                     repeat=queries.discussed_within(person.id, meeting.starts_at))  # fmt: skip
    heard = audiences.audiences([case], audiences.room(meeting.id))[case.id]  # before it exists: keyed None
    if not heard.included:
        raise Invalid(
            "No agency invited to this meeting may hear her case: none has her consent for discussion at the "
            "forum, and no approved safeguarding decision allows it.",
            errors={"service_user_id": ["No agency invited may hear her case. Record her consent to discussion "
                                        "at the forum with the agencies concerned first."]},
            missing=audiences.missing_problem(heard),
        )  # fmt: skip
    db.session.add(case)
    db.session.flush()
    audit.record(actor, "forum_case.nominated", case, meeting_id=meeting.id, repeat=case.repeat)
    return case, heard


def withdraw_case(actor: Actor, case: ForumCase, reason: str) -> ForumCase:
    require(policies.can_withdraw_case(actor), "Only our own staff withdraw cases.")
    meeting = db.session.get_one(Meeting, case.meeting_id)
    if not meeting.upcoming or case.withdrawn:
        raise Conflict("Only a case still to be heard can be withdrawn.")
    case.withdrawn_at, case.withdrawn_reason = utcnow(), reason
    db.session.flush()
    audit.record(actor, "forum_case.withdrawn", case)
    return case


def view_cases(actor: Actor, cases: Sequence[ForumCase], heard: dict[int, audiences.Audience],
               *, context: str = CASE_CONTEXT) -> dict[int, ServiceUser]:  # fmt: skip
    """Who each case is about, for those who may know: our staff, and a signed-in partner whose agency is
    in the case's audience now. Each partner's view is a disclosure, all in one statement."""
    require(policies.can_view_cases(actor), "Sign in to see the forum.")
    if actor.is_staff:
        visible = list(cases)
    elif actor.actor_kind == "user" and actor.agency_id is not None:
        visible = [c for c in cases if heard.get(c.id) and heard[c.id].hears(actor.agency_id)]
    else:
        visible = []
    people = queries.people(c.service_user_id for c in visible)
    if not actor.is_staff and visible:
        assert actor.agency_id is not None
        sharing.disclose_many(actor, [
            (heard[c.id].bases[actor.agency_id],
             {"service_user_id": c.service_user_id, "agency_id": actor.agency_id, "kind": DisclosureKind.VIEWED,
              "categories": audiences.CATEGORIES, "purpose": audiences.PURPOSE, "context": context,
              "context_id": c.id})
            for c in visible
        ])  # fmt: skip
    return {c.id: people[c.service_user_id] for c in visible}


# Actions ---------------------------------------------------------------------------------------


def add_action(actor: Actor, meeting: Meeting, data: dict[str, Any]) -> ForumAction:
    require(policies.can_add_action(actor), "Only our own staff record the forum's actions.")
    _editable(meeting, "its actions")
    agency = _partner_agency(data["agency_id"], "agency_id")
    owner = _contact_of(agency.id, data.get("owner_contact_id"), "owner_contact_id")
    if data["due_on"] < today():
        raise Invalid.on_field("due_on", "The due date cannot be in the past")
    case_id = data.get("case_id")
    if case_id is not None:
        case = db.session.get(ForumCase, case_id)
        if case is None or case.meeting_id != meeting.id or case.withdrawn:
            raise Invalid.on_field("case_id", "Choose a case of this meeting")
        if not audiences.of_case_meeting(meeting, [case])[case.id].hears(agency.id):
            raise Invalid.on_field("agency_id", f"{agency.name} may not hear this case: choose an agency in its "
                                                "audience, or record the action without the case")  # fmt: skip
    action = ForumAction(reference=new_reference("FA", ForumAction.reference), forum_id=meeting.forum_id,
                         meeting_id=meeting.id, case_id=case_id, text=data["text"], agency_id=agency.id,
                         owner_contact_id=owner, due_on=data["due_on"])  # fmt: skip
    db.session.add(action)
    db.session.flush()
    audit.record(actor, "forum_action.added", action, meeting_id=meeting.id, agency_id=agency.id)
    return action


def close_action(actor: Actor, action: ForumAction, status: str, note: str) -> ForumAction:
    require(policies.can_close_action(actor, action), "Only our staff and the agency's lead close its actions.")
    outcome = ActionStatus(status)
    if outcome is ActionStatus.OPEN:
        raise Invalid.on_field("status", "Say how it ended: done, not done as circumstances changed, or not done")
    if not action.is_open:
        raise Conflict(f"This action is already closed ({action.status.label.lower()}).")
    if outcome is not ActionStatus.DONE and not note.strip():
        raise Invalid.on_field("note", "Say why it was not done")
    action.status, action.close_note = outcome, note
    action.closed_at, action.closed_on = utcnow(), today()  # today(): the London day
    action.closed_by_kind, action.closed_by_id = actor.actor_kind, actor.actor_id
    db.session.flush()
    audit.record(actor, "forum_action.closed", action, status=outcome.value)
    return action


def reassign_action(actor: Actor, action: ForumAction, contact_id: int | None) -> ForumAction:
    require(policies.can_reassign_action(actor, action), "Only our staff and the agency's lead reassign its actions.")
    if not action.is_open:
        raise Conflict("Only an open action can change hands.")
    action.owner_contact_id = _contact_of(action.agency_id, contact_id, "owner_contact_id")
    db.session.flush()
    audit.record(actor, "forum_action.reassigned", action, to_contact_id=action.owner_contact_id)
    return action


def refer_action(actor: Actor, action: ForumAction, data: dict[str, Any]) -> Any:
    """Send the action to its agency as a referral about the case's woman, through the consent gate (422
    with ``missing`` where no basis covers it); the referral's deadline and escalation then apply."""
    from referrals import services as referral_services

    require(policies.can_refer_action(actor), "Only our own staff make referrals.")
    if not action.is_open:
        raise Conflict("Only an open action can be sent as a referral.")
    if action.case_id is None:
        raise Invalid.on_field("case_id", "Only an action about a case can be sent as a referral")
    if action.referral_id is not None:
        raise Conflict("This action has already been sent as a referral.")
    case = db.session.get_one(ForumCase, action.case_id)
    referral = referral_services.create_referral(actor, {
        "service_user_id": case.service_user_id, "agency_id": action.agency_id, "contact_id": action.owner_contact_id,
        "data_categories": data["data_categories"], "reason": data.get("reason") or action.text,
        "urgency": data.get("urgency", "routine"), "needed_by": action.due_on,
    })  # fmt: skip
    referral_services.send_referral(actor, referral)
    action.referral_id = referral.id
    db.session.flush()
    audit.record(actor, "forum_action.referred", action, referral_id=referral.id)
    return referral


# Minutes ---------------------------------------------------------------------------------------


def save_minutes(actor: Actor, meeting: Meeting, text: str, case_notes: dict[int, str] | None = None) -> Meeting:
    """A new draft of the minutes (and of each case's section), kept as a revision; refused once agreed."""
    forum = db.session.get_one(Forum, meeting.forum_id)
    require(policies.can_save_minutes(actor, forum), "Only whoever runs the meeting writes its minutes.")
    _editable(meeting, "the minutes")
    cases = {c.id: c for c in queries.cases_of(meeting.id)}
    for case_id in case_notes or {}:
        if case_id not in cases:
            raise Invalid.on_field("case_notes", f"No case {case_id} at this meeting")
    meeting.minutes = text
    for case_id, note in (case_notes or {}).items():
        cases[case_id].discussion = note
    db.session.add(MinutesRevision(meeting_id=meeting.id, text=text,
                                   case_notes={str(k): v for k, v in (case_notes or {}).items()},
                                   author_kind=actor.actor_kind, author_id=actor.actor_id))  # fmt: skip
    db.session.flush()
    audit.record(actor, "forum_meeting.minutes_saved", meeting)
    return meeting


def circulate_minutes(actor: Actor, meeting: Meeting) -> int:
    """Tell each agency on the register that the minutes are ready to read in the hub (access, never an
    attachment; case sections only for each case's audience). Returns how many were told."""
    forum = db.session.get_one(Forum, meeting.forum_id)
    require(policies.can_circulate_minutes(actor, forum), "Only whoever runs the meeting circulates its minutes.")
    if meeting.status not in (MeetingStatus.HELD, MeetingStatus.MINUTES_AGREED):
        raise Conflict("Minutes are circulated after the meeting is held.")
    if not meeting.minutes.strip():
        raise Invalid.on_field("text", "Write the minutes before circulating them")
    told = notices.minutes(meeting, forum)
    meeting.minutes_circulated_at = meeting.minutes_circulated_at or utcnow()
    db.session.flush()
    audit.record(actor, "forum_meeting.minutes_circulated", meeting, told=told)
    return told


def agree_minutes(actor: Actor, meeting: Meeting) -> Meeting:
    """The minutes are agreed: locked from now on (a change is a 409), and circulated if not yet."""
    forum = db.session.get_one(Forum, meeting.forum_id)
    require(policies.can_agree_minutes(actor, forum), "Only whoever runs the meeting agrees its minutes.")
    if meeting.status is MeetingStatus.MINUTES_AGREED:
        raise Conflict("The minutes are already agreed and locked.")
    if meeting.status is not MeetingStatus.HELD:
        raise Conflict("Minutes are agreed after the meeting is held.")
    if not meeting.minutes.strip():
        raise Invalid.on_field("text", "Write the minutes before agreeing them")
    meeting.status, meeting.minutes_agreed_at = MeetingStatus.MINUTES_AGREED, utcnow()
    meeting.minutes_agreed_by_id = actor.actor_id if actor.actor_kind == "user" else None
    if meeting.minutes_circulated_at is None:
        notices.minutes(meeting, forum)
        meeting.minutes_circulated_at = utcnow()
    db.session.flush()
    audit.record(actor, "forum_meeting.minutes_agreed", meeting)
    return meeting
