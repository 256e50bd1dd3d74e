"""Forum pages: thin — parse, call the service, render.

- Everyone signed in sees the forums and meetings their agency is on the
  register of (our staff: all); cases show by label, and her name only to our
  staff and to signed-in partners whose agency is in the case's audience now
  (each view a disclosure).
- Managers set up forums; managers and the chair run meetings (the register,
  the agenda, holding, the minutes); our staff nominate cases and record
  actions; a partner gives its own agency's apologies and its lead closes
  its own agency's actions.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from marshmallow import fields, validate

from agencies import queries as directory
from consent.models import DataCategory, ServiceUser
from forum import agenda, audience, policies, queries, schemas, services
from forum.models import ACTION_LABELS, ActionStatus, AttendanceStatus, Forum, ForumCase, Meeting
from hub.auth.models import User
from hub.db import db, london_date, today, unit_of_work
from hub.permissions import Actor, Conflict, Denied, Invalid, Role
from hub.web.fields import ID_RANGE, FlexibleDate, SingleLineText
from hub.web.forms import load_form, path_id, submit
from hub.web.guards import current_actor, signed_in

bp = Blueprint("forum", __name__, template_folder="templates")

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NTH = [(1, "First"), (2, "Second"), (3, "Third"), (4, "Fourth"), (5, "Last")]
CLOSE_OPTIONS = [(s.value, ACTION_LABELS[s]) for s in ActionStatus if s is not ActionStatus.OPEN]
CATEGORY_OPTIONS = [(c.value, c.label) for c in DataCategory]


def _first_error(exc: Exception) -> str:
    if isinstance(exc, Invalid) and exc.errors:
        return next(iter(exc.errors.values()))[0]
    return getattr(exc, "detail", str(exc))


def _act(back: str, action: Any, done: str) -> Any:
    """Run one action in a unit of work; a refusal is shown on the page it came from, and changes nothing."""
    try:
        with unit_of_work():
            action()
    except (Conflict, Invalid, Denied) as exc:
        flash(_first_error(exc), "error")
        return redirect(back)
    flash(done, "success")
    return redirect(back)


def _posted(schema: Any, *lists: str) -> dict[str, Any] | None:
    """The form posted, loaded; or None, with its first error flashed for the page it goes back to."""
    data, errors, _ = load_form(schema, request.form, lists)
    if data is None:
        flash(next(iter(errors.values()))[0], "error")
    return data


def _staff_choices() -> list[tuple[int, str]]:
    users = db.session.scalars(db.select(User).where(User.role.in_([Role.ADMIN, Role.MANAGER, Role.PRACTITIONER]),
                                                     User.disabled_at.is_(None)).order_by(User.name))  # fmt: skip
    return [(u.id, u.name) for u in users]


# Forums ----------------------------------------------------------------------------------------


@bp.get("/forum")
@signed_in()
def index() -> Any:
    actor = current_actor()
    return render_template("forum/index.html", title="Forum", forums=queries.forums_for(actor),
                           meetings=queries.upcoming_for(actor), can_manage=policies.can_manage_forums(actor),
                           can_see_actions=policies.can_see_accountability(actor, actor.agency_id))  # fmt: skip


class ForumForm(ma.Schema):
    name = SingleLineText(validate=validate.Length(min=1, max=120, error="Enter the name (up to 120 characters)"),
                          required=True, error_messages={"required": "Enter the forum's name"})  # fmt: skip
    venue = SingleLineText(validate=validate.Length(max=300), load_default="")
    chair_user_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)
    weekday = fields.Integer(strict=False, validate=validate.Range(min=0, max=6), load_default=1)
    week_of_month = fields.Integer(strict=False, validate=validate.Range(min=1, max=5), load_default=2)
    starts_at = fields.Time(load_default=None, error_messages={"invalid": "Enter a time such as 10:00"})
    agenda_days = fields.Integer(strict=False, validate=validate.Range(min=1, max=20, error="1 to 20 working days"),
                                 load_default=5)  # fmt: skip
    minutes_days = fields.Integer(strict=False, validate=validate.Range(min=1, max=20, error="1 to 20 working days"),
                                  load_default=3)  # fmt: skip
    member_agency_ids = fields.List(fields.Integer(strict=False, validate=ID_RANGE), load_default=list)
    standing = fields.String(validate=validate.Length(max=4000), load_default="")

    @ma.post_load
    def _standing(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["standing_items"] = [line.strip()[:200] for line in data.pop("standing").splitlines() if line.strip()]
        return data


def _forum_form(forum: Forum | None, errors: dict[str, list[str]], values: dict[str, Any]) -> Any:
    partners = [(a.id, a.name) for a in directory.partner_agencies()]
    return render_template("forum/forum_form.html", title="Change the forum" if forum else "Set up a forum",
                           forum=forum, errors=errors, values=values, partners=partners, staff=_staff_choices(),
                           weekdays=list(enumerate(WEEKDAYS)), nth=NTH), (422 if errors else 200)  # fmt: skip


@bp.route("/forum/new", methods=["GET", "POST"])
@signed_in(Role.ADMIN, Role.MANAGER, staff=True)
def new_forum() -> Any:
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"weekday": "1", "week_of_month": "2", "starts_at": "10:00", "agenda_days": "5",
                              "minutes_days": "3"}  # fmt: skip
    if request.method == "POST":
        forum, errors, values = submit(ForumForm(), request.form, lambda d: services.create_forum(actor, d),
                                       ("member_agency_ids",))  # fmt: skip
        if not errors:
            flash("The forum is set up. Schedule its first meeting.", "success")
            return redirect(url_for("forum.forum", forum_id=forum.id))
    return _forum_form(None, errors, values)


@bp.route("/forum/forums/<forum_id>/edit", methods=["GET", "POST"])
@signed_in(Role.ADMIN, Role.MANAGER, staff=True)
def edit_forum(forum_id: str) -> Any:
    actor = current_actor()
    forum = queries.get_forum(actor, path_id(forum_id))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"name": forum.name, "venue": forum.venue, "chair_user_id": forum.chair_user_id,
                              "weekday": str(forum.weekday), "week_of_month": str(forum.week_of_month),
                              "starts_at": f"{forum.starts_at:%H:%M}", "agenda_days": forum.agenda_days,
                              "minutes_days": forum.minutes_days,
                              "standing": "\n".join(forum.standing_items)}  # fmt: skip
    if request.method == "POST":
        _, errors, values = submit(ForumForm(), request.form,
                                   lambda d: services.edit_forum(actor, forum, {k: v for k, v in d.items()
                                                                                if k != "member_agency_ids"}),
                                   ("member_agency_ids",))  # fmt: skip
        if not errors:
            flash("Saved.", "success")
            return redirect(url_for("forum.forum", forum_id=forum.id))
    return _forum_form(forum, errors, values)


@bp.get("/forum/forums/<forum_id>")
@signed_in()
def forum(forum_id: str) -> Any:
    actor = current_actor()
    found = queries.get_forum(actor, path_id(forum_id))
    members = queries.members_of(found.id)
    chair = db.session.get(User, found.chair_user_id) if found.chair_user_id else None
    manage = policies.can_manage_forums(actor)
    return render_template(
        "forum/forum.html", title=found.name, forum=found, members=members, chair=chair,
        meetings=queries.meetings_of(actor, found.id), can_manage=manage,
        can_run=policies.can_run_meeting(actor, found),
        contacts=queries.agency_contacts([m.agency_id for m in members]) if manage else {},
        partners=[(a.id, a.name) for a in directory.partner_agencies()] if manage else [],
    )  # fmt: skip


class MemberForm(ma.Schema):
    agency_id = fields.Integer(strict=False, validate=ID_RANGE, required=True,
                               error_messages={"required": "Choose the agency"})  # fmt: skip
    representative_contact_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)
    deputy_contact_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)


@bp.post("/forum/forums/<forum_id>/members")
@signed_in(Role.ADMIN, Role.MANAGER, staff=True)
def set_member(forum_id: str) -> Any:
    actor = current_actor()
    found = queries.get_forum(actor, path_id(forum_id))
    back = url_for("forum.forum", forum_id=found.id) + "#members"
    data = _posted(MemberForm())
    if data is None:
        return redirect(back)
    agency_id = data.pop("agency_id")
    return _act(back, lambda: services.set_member(actor, found, agency_id, data), "Members saved.")


class MeetingForm(ma.Schema):
    day = FlexibleDate(required=True, error_messages={"required": "Enter the date"})
    time = fields.Time(
        required=True, error_messages={"required": "Enter the time", "invalid": "Enter a time such as 10:00"}
    )
    venue = SingleLineText(validate=validate.Length(max=300), load_default="")


@bp.post("/forum/forums/<forum_id>/meetings")
@signed_in(staff=True)
def schedule(forum_id: str) -> Any:
    from forum.recurrence import at_london

    actor = current_actor()
    found = queries.get_forum(actor, path_id(forum_id))
    back = url_for("forum.forum", forum_id=found.id) + "#meetings"
    data = _posted(MeetingForm())
    if data is None:
        return redirect(back)
    when = at_london(data["day"], data["time"])
    return _act(back, lambda: services.schedule_meeting(actor, found, {"starts_at": when,
                                                                        "venue": data["venue"]}),
                "The meeting is scheduled; every member agency is invited.")  # fmt: skip


# A meeting -------------------------------------------------------------------------------------


def _meeting_back(meeting: Meeting, anchor: str = "") -> str:
    return url_for("forum.meeting", meeting_id=meeting.id) + (f"#{anchor}" if anchor else "")


def _case_view(actor: Actor, meeting: Meeting, cases: list[ForumCase]) -> tuple[dict[int, Any], dict[int, ServiceUser]]:
    heard = audience.of_case_meeting(meeting, cases)
    with unit_of_work():
        names = services.view_cases(actor, cases, heard)
    return heard, names


@bp.get("/forum/meetings/<meeting_id>")
@signed_in()
def meeting(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    register = queries.register(found.id)
    cases = queries.cases_of(found.id)
    heard = audience.of_case_meeting(found, cases)
    names = queries.agencies([line.agency_id for line in register])
    run = policies.can_run_meeting(actor, found.forum)
    actions = queries.actions_raised(found.id)
    return render_template(
        "forum/meeting.html", title=f"{found.forum.name}: {london_date(found.starts_at):%-d %B %Y}", m=found,
        register=register, cases=cases, heard=heard, agency_names=names, can_run=run, actor=actor,
        is_staff=actor.is_staff, observers=queries.observers(found.id), actions=actions,
        carried=queries.carried_actions(found), today=today(), meeting_day=london_date(found.starts_at),
        contacts=queries.agency_contacts([line.agency_id for line in register]),
        statuses=[(s.value, s.label) for s in AttendanceStatus],
        partners=[(a.id, a.name) for a in directory.partner_agencies()] if run else [],
        hidden_text={a.id for a in actions if a.case_id and not actor.is_staff and
                     not heard.get(a.case_id, audience.Audience()).hears(actor.agency_id)},
    )  # fmt: skip


class AttendanceForm(ma.Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in AttendanceStatus], error="Choose one"),
                           required=True, error_messages={"required": "Choose one"})  # fmt: skip
    representative_contact_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)
    information_sent = fields.Boolean(load_default=None, allow_none=True)


@bp.post("/forum/meetings/<meeting_id>/attendance/<agency_id>")
@signed_in()
def attendance(meeting_id: str, agency_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    aid = path_id(agency_id)
    back = _meeting_back(found, f"register-{aid}")
    data = _posted(AttendanceForm())
    if data is None:
        return redirect(back)
    if data.get("information_sent") is None:
        data.pop("information_sent")
    return _act(back, lambda: services.set_attendance(actor, found, aid, data),
                "The register is saved; every case's audience follows it.")  # fmt: skip


class AddAgencyForm(ma.Schema):
    agency_id = fields.Integer(strict=False, validate=ID_RANGE, required=True,
                               error_messages={"required": "Choose the agency"})  # fmt: skip


@bp.post("/forum/meetings/<meeting_id>/invite")
@signed_in(staff=True)
def invite(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    data = _posted(AddAgencyForm())
    if data is None:
        return redirect(_meeting_back(found, "register"))
    status = "invited" if found.upcoming and london_date(found.starts_at) > today() else "present"
    return _act(_meeting_back(found, "register"),
                lambda: services.set_attendance(actor, found, data["agency_id"], {"status": status}),
                "The agency is on the register; every case's audience is recomputed.")  # fmt: skip


@bp.post("/forum/meetings/<meeting_id>/observers")
@signed_in(staff=True)
def observer(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    data = _posted(schemas.ObserverIn())
    if data is None:
        return redirect(_meeting_back(found, "observers"))
    return _act(_meeting_back(found, "observers"), lambda: services.add_observer(actor, found, data), "Observer added.")


@bp.post("/forum/meetings/<meeting_id>/send-agenda")
@signed_in(staff=True)
def send_agenda(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    return _act(_meeting_back(found), lambda: services.send_agenda(actor, found),
                "The agenda has gone out as a link to every agency on the register.")  # fmt: skip


@bp.post("/forum/meetings/<meeting_id>/hold")
@signed_in(staff=True)
def hold(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    read = request.form.get("confidentiality_read") == "yes"
    return _act(_meeting_back(found), lambda: services.hold_meeting(actor, found, {"confidentiality_read": read}),
                "The meeting is recorded as held, and the next one is planned. Now write the minutes.")  # fmt: skip


@bp.route("/forum/meetings/<meeting_id>/cancel", methods=["GET", "POST"])
@signed_in(staff=True)
def cancel(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    if not policies.can_cancel_meeting(actor, found.forum):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        _, errors, values = submit(schemas.ForumReasonIn(), request.form,
                                   lambda d: services.cancel_meeting(actor, found, d["reason"]))  # fmt: skip
        if not errors:
            flash("The meeting is cancelled; everyone invited is told.", "success")
            return redirect(_meeting_back(found))
    return render_template("forum/cancel.html", title="Cancel this meeting", m=found, errors=errors,
                           values=values), (422 if errors else 200)  # fmt: skip


@bp.get("/forum/meetings/<meeting_id>/agenda")
@signed_in()
def agenda_page(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    items = agenda.build(found, found.forum)
    return render_template("forum/agenda.html", title=f"Agenda: {found.forum.name}", m=found, items=items,
                           meeting_day=london_date(found.starts_at),
                           agency_names=queries.agencies(x.agency_id for x in queries.register(found.id)))  # fmt: skip


# Cases -----------------------------------------------------------------------------------------


class NominateForm(ma.Schema):
    reference = SingleLineText(validate=validate.Length(min=1, max=40), load_default=None)
    service_user_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)
    meeting_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)
    reason = fields.String(validate=validate.Length(min=1, max=2000, error="Say why (up to 2,000 characters)"),
                           required=True,
                           error_messages={"required": "Say why the forum should discuss her"})  # fmt: skip


def _nominate(actor: Actor, meeting: Meeting, data: dict[str, Any]) -> ForumCase:
    person_id = data.get("service_user_id")
    if person_id is None and data.get("reference"):
        person_id = db.session.scalar(
            db.select(ServiceUser.id).where(ServiceUser.reference == data["reference"].upper())
        )
        if person_id is None:
            raise Invalid.on_field("reference", "No woman has that reference")
    if person_id is None:
        raise Invalid.on_field("reference", "Enter her hub reference")
    case, _ = services.nominate_case(actor, meeting, {"service_user_id": person_id, "reason": data["reason"]})
    return case


@bp.route("/forum/meetings/<meeting_id>/nominate", methods=["GET", "POST"])
@signed_in(staff=True)
def nominate(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = dict(request.args) if request.method == "GET" else {}
    if request.method == "POST":
        try:
            case, errors, values = submit(NominateForm(), request.form, lambda d: _nominate(actor, found, d))
        except Conflict as exc:
            errors, values = {"reference": [exc.detail]}, dict(request.form)
        if not errors:
            flash(f"Case {case.label} is on the agenda.", "success")
            return redirect(url_for("forum.case", case_id=case.id))
        if "service_user_id" in errors:
            errors["reference"] = errors.pop("service_user_id")
    return render_template("forum/nominate.html", title="Nominate a case", m=found, errors=errors, values=values), \
        (422 if errors else 200)  # fmt: skip


@bp.get("/forum/cases/<case_id>")
@signed_in()
def case(case_id: str) -> Any:
    actor = current_actor()
    found, meeting_ = queries.get_case(actor, path_id(case_id))
    heard, names = _case_view(actor, meeting_, [found])
    person = names.get(found.id)
    return render_template("forum/case.html", title=f"Case {found.label}", c=found, m=meeting_, person=person,
                           audience=heard[found.id], agency_names=queries.agencies(heard[found.id].included +
                                                                                   heard[found.id].excluded),
                           is_staff=actor.is_staff,
                           actions=[a for a in queries.actions_raised(meeting_.id)
                                    if a.case_id == found.id])  # fmt: skip


@bp.post("/forum/cases/<case_id>/withdraw")
@signed_in(staff=True)
def withdraw(case_id: str) -> Any:
    actor = current_actor()
    found, meeting_ = queries.get_case(actor, path_id(case_id))
    data = _posted(schemas.ForumReasonIn())
    if data is None:
        return redirect(url_for("forum.case", case_id=found.id))
    return _act(_meeting_back(meeting_, "cases"), lambda: services.withdraw_case(actor, found, data["reason"]),
                f"Case {found.label} is off the agenda.")  # fmt: skip


def service_user_section(person: ServiceUser, actor: Actor | None = None, **_kw: Any) -> Markup | None:
    """Her forum cases and a way to nominate her, on her page (our staff only)."""
    if actor is None or not actor.is_staff:
        return None
    cases = list(db.session.scalars(db.select(ForumCase).where(ForumCase.service_user_id == person.id)
                                    .order_by(ForumCase.id.desc()).limit(20)))  # fmt: skip
    meetings = {
        m.id: m for m in db.session.scalars(db.select(Meeting).where(Meeting.id.in_([c.meeting_id for c in cases])))
    }
    upcoming = [m for m in queries.upcoming_for(actor) if m.upcoming]
    page = render_template("forum/_service_user_cases.html", person=person, cases=cases, meetings=meetings,
                           upcoming=upcoming)  # fmt: skip
    return Markup(page)  # noqa: S704 - a rendered, autoescaped template


@bp.post("/forum/service-users/<service_user_id>/nominate")
@signed_in(staff=True)
def nominate_her(service_user_id: str) -> Any:
    actor = current_actor()
    person_id = path_id(service_user_id)
    back = url_for("consent.service_user", service_user_id=person_id) + "#forum"
    data, errors, _ = load_form(NominateForm(), request.form)
    if data is None or data.get("meeting_id") is None:
        flash(next(iter(errors.values()))[0] if errors else "Choose the meeting", "error")
        return redirect(back)
    found = queries.get_meeting(actor, data["meeting_id"])
    return _act(back, lambda: _nominate(actor, found, {**data, "service_user_id": person_id}),
                "She is on the agenda, by her case label.")  # fmt: skip


# Actions ---------------------------------------------------------------------------------------


class ActionForm(ma.Schema):
    text = fields.String(validate=validate.Length(min=1, max=2000, error="Say what is to be done"), required=True,
                         error_messages={"required": "Say what is to be done"})  # fmt: skip
    agency_id = fields.Integer(strict=False, validate=ID_RANGE, required=True,
                               error_messages={"required": "Choose the agency that will do it"})  # fmt: skip
    owner_contact_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)
    due_on = FlexibleDate(required=True, error_messages={"required": "Enter the due date"})
    case_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)


@bp.route("/forum/meetings/<meeting_id>/actions/new", methods=["GET", "POST"])
@signed_in(staff=True)
def new_action(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = dict(request.args) if request.method == "GET" else {}
    if request.method == "POST":
        _, errors, values = submit(ActionForm(), request.form, lambda d: services.add_action(actor, found, d))
        if not errors:
            flash("The action is recorded. It stays on every agenda until it is closed.", "success")
            return redirect(_meeting_back(found, "actions"))
    register = queries.register(found.id)
    contacts = queries.agency_contacts([line.agency_id for line in register])
    return render_template(
        "forum/action_form.html", title="Record an action", m=found, errors=errors, values=values,
        agencies=[(line.agency_id, line.agency.name) for line in register],
        owners=[(c.id, f"{c.name} ({x.agency.name})") for x in register for c in contacts.get(x.agency_id, [])],
        cases=[(c.id, f"Case {c.label}") for c in queries.cases_of(found.id)],
    ), (422 if errors else 200)  # fmt: skip


@bp.get("/forum/actions/<action_id>")
@signed_in()
def action(action_id: str) -> Any:
    actor = current_actor()
    found = queries.get_action(actor, path_id(action_id))
    case_ = db.session.get(ForumCase, found.case_id) if found.case_id else None
    hidden = False
    if case_ is not None and not actor.is_staff:
        meeting_ = db.session.get_one(Meeting, case_.meeting_id)
        hidden = not audience.of_case_meeting(meeting_, [case_])[case_.id].hears(actor.agency_id)
    return render_template("forum/action.html", title=f"Action {found.reference}", a=found, case=case_, hidden=hidden,
                           can_close=policies.can_close_action(actor, found) and found.is_open,
                           can_refer=policies.can_refer_action(actor) and found.is_open and case_ is not None
                           and found.referral_id is None, close_options=CLOSE_OPTIONS,
                           categories=CATEGORY_OPTIONS, today=today(),
                           can_see_actions=policies.can_see_accountability(actor, actor.agency_id),
                           owners=[(c.id, c.name) for c in
                                   queries.agency_contacts([found.agency_id]).get(found.agency_id, [])])  # fmt: skip


@bp.post("/forum/actions/<action_id>/close")
@signed_in()
def close_action(action_id: str) -> Any:
    actor = current_actor()
    found = queries.get_action(actor, path_id(action_id))
    back = url_for("forum.action", action_id=found.id)
    data = _posted(schemas.CloseIn())
    if data is None:
        return redirect(back)
    return _act(
        back, lambda: services.close_action(actor, found, data["status"], data["note"]), "The action is closed."
    )


class OwnerForm(ma.Schema):
    owner_contact_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)


@bp.post("/forum/actions/<action_id>/owner")
@signed_in()
def reassign(action_id: str) -> Any:
    actor = current_actor()
    found = queries.get_action(actor, path_id(action_id))
    data, _, _ = load_form(OwnerForm(), request.form)
    owner = (data or {}).get("owner_contact_id")
    return _act(url_for("forum.action", action_id=found.id), lambda: services.reassign_action(actor, found, owner),
                "Who owns it is saved.")  # fmt: skip


@bp.post("/forum/actions/<action_id>/refer")
@signed_in(staff=True)
def refer(action_id: str) -> Any:
    actor = current_actor()
    found = queries.get_action(actor, path_id(action_id))
    back = url_for("forum.action", action_id=found.id)
    data = _posted(schemas.ReferIn(), "data_categories")
    if data is None:
        return redirect(back)
    return _act(back, lambda: services.refer_action(actor, found, data),
                "Sent as a referral: its deadline and reminders now apply.")  # fmt: skip


@bp.get("/forum/actions")
@signed_in()
def actions() -> Any:
    actor = current_actor()
    wanted = request.args.get("agency_id", "")
    agency_id = (int(wanted) if wanted.isascii() and wanted.isdigit() and len(wanted) < 10 else None) \
        if actor.is_staff else actor.agency_id  # fmt: skip
    if not policies.can_see_accountability(actor, agency_id):
        abort(403)
    return render_template("forum/actions.html", title="Forum actions by agency",
                           rows=queries.accountability(agency_id),
                           open_actions=queries.agency_actions(agency_id, open_only=True), today=today(),
                           is_staff=actor.is_staff, chosen=agency_id,
                           partners=[(a.id, a.name) for a in directory.partner_agencies()]
                           if actor.is_staff else [])  # fmt: skip


# Minutes ---------------------------------------------------------------------------------------


@bp.get("/forum/meetings/<meeting_id>/minutes")
@signed_in()
def minutes(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    cases = queries.cases_of(found.id)
    heard, names = _case_view(actor, found, cases)
    register = queries.register(found.id)
    return render_template(
        "forum/minutes.html", title=f"Minutes: {found.forum.name}", m=found, cases=cases, heard=heard, names=names,
        register=register, observers=queries.observers(found.id), actions=queries.actions_raised(found.id),
        meeting_day=london_date(found.starts_at), can_run=policies.can_run_meeting(actor, found.forum),
        revisions=queries.revisions(found.id, limit=10) if actor.is_staff else [], viewer=actor,
        agency_names=queries.agencies(line.agency_id for line in register), printed_on=today(),
    )  # fmt: skip


@bp.route("/forum/meetings/<meeting_id>/minutes/edit", methods=["GET", "POST"])
@signed_in(staff=True)
def edit_minutes(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    if not policies.can_save_minutes(actor, found.forum):
        abort(403)
    cases = queries.cases_of(found.id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"text": found.minutes, **{f"case-{c.id}": c.discussion for c in cases}}
    if request.method == "POST":
        values = dict(request.form)
        notes = {c.id: request.form.get(f"case-{c.id}", "")[:20_000] for c in cases}
        text = request.form.get("text", "")
        if len(text) > 100_000:
            errors = {"text": ["Up to 100,000 characters"]}
        else:
            try:
                with unit_of_work():
                    services.save_minutes(actor, found, text, notes)
            except Conflict as exc:
                flash(exc.detail, "error")
                return redirect(url_for("forum.minutes", meeting_id=found.id))
            flash("The minutes are saved (a new revision).", "success")
            return redirect(url_for("forum.minutes", meeting_id=found.id))
    return render_template("forum/minutes_form.html", title="Write the minutes", m=found, cases=cases, errors=errors,
                           values=values), (422 if errors else 200)  # fmt: skip


@bp.post("/forum/meetings/<meeting_id>/minutes/agree")
@signed_in(staff=True)
def agree(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    return _act(url_for("forum.minutes", meeting_id=found.id), lambda: services.agree_minutes(actor, found),
                "The minutes are agreed and locked, and every agency on the register can read them.")  # fmt: skip


@bp.post("/forum/meetings/<meeting_id>/minutes/circulate")
@signed_in(staff=True)
def circulate(meeting_id: str) -> Any:
    actor = current_actor()
    found = queries.get_meeting(actor, path_id(meeting_id))
    return _act(url_for("forum.minutes", meeting_id=found.id), lambda: services.circulate_minutes(actor, found),
                "Every agency on the register has been told the minutes are ready to read.")  # fmt: skip
