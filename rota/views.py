"""Drop-in rota pages: thin — parse, call the service, render.

- The rota (the grid of weeks by services, each session and its slots) is for
  everyone signed in; who is named to attend shows only to our staff and to
  that agency.
- Partner leads take, confirm and give back their own agency's slots and
  make its commitments and calendar feeds; partner staff confirm, or say
  they cannot come to, the slots they are named for.
- Managers set up the weekly session, change or cancel a session, add slots,
  ask an agency to fill a gap; our staff record each session (counts only).
- Reliability: managers (every agency) and each agency's lead (its own).
- ``/calendar/<token>.ics`` is public by design: the token is the secret,
  stored hashed; a revoked or unknown one answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from marshmallow import fields, validate
from werkzeug.datastructures import MultiDict

from agencies import queries as directory
from agencies.models import Agency, AgencyKind, Contact, ContactStatus
from hub.db import db, today, unit_of_work
from hub.permissions import SYSTEM, Actor, Conflict, Denied, Invalid
from hub.web.fields import ID_RANGE
from hub.web.forms import load_form, path_id, submit
from hub.web.guards import current_actor, public, signed_in
from rota import feeds, links, policies, queries, schemas, services
from rota.models import Attendance, RotaSession, Service

bp = Blueprint("rota", __name__, template_folder="templates")

SERVICE_OPTIONS = [(s.value, s.label) for s in Service]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ORDINALS = [(1, "First"), (2, "Second"), (3, "Third"), (4, "Fourth"), (5, "Fifth")]


def _contact_of(actor: Actor) -> int | None:
    """The directory entry of a signed-in partner (whose slots they are named for)."""
    if actor.actor_kind != "user" or actor.is_staff:
        return None
    return db.session.scalar(
        db.select(Contact.id).where(Contact.user_id == actor.actor_id, Contact.status == ContactStatus.ACTIVE)
    )


def _agency_contacts(agency_id: int) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        db.select(Contact).where(Contact.agency_id == agency_id, Contact.status == ContactStatus.ACTIVE)
        .order_by(Contact.name))  # fmt: skip
    return [(c.id, f"{c.name}, {c.role}" if c.role else c.name) for c in rows]


def _partners() -> list[Agency]:
    return [a for a in directory.partner_agencies() if a.kind is not AgencyKind.PRISON]


def _back(session_id: int, anchor: str = "") -> Any:
    return redirect(url_for("rota.session", session_id=session_id) + (f"#{anchor}" if anchor else ""))


def _act(session_id: int, action: Any, done: str, anchor: str = "") -> Any:
    """Run one action in a unit of work; a refusal is shown on the session page, and changes nothing."""
    try:
        with unit_of_work():
            action()
    except (Conflict, Invalid, Denied) as exc:
        flash(exc.detail if not isinstance(exc, Invalid) or not exc.errors else next(iter(exc.errors.values()))[0],
              "error")  # fmt: skip
        return _back(session_id, anchor)
    flash(done, "success")
    return _back(session_id, anchor)


# The rota --------------------------------------------------------------------------------------


@bp.get("/rota")
@signed_in()
def index() -> Any:
    actor = current_actor()
    grid = queries.grid()
    on = today()
    mine = queries.agency_slots(actor.agency_id, on, grid.end) if not actor.is_staff and actor.agency_id else []
    return render_template(
        "rota/index.html", title="Drop-in rota", grid=grid, today=on, mine=mine,
        gaps=queries.gaps(on, grid.end), series=queries.series(),
        commitments=queries.commitments_of(actor) if not actor.is_staff else [],
        can_manage=policies.can_manage_rota(actor), is_lead=policies.acts_for(actor, actor.agency_id),
        labels=queries.CELL_LABELS,
    )  # fmt: skip


@bp.get("/rota/sessions/<session_id>")
@signed_in()
def session(session_id: str) -> Any:
    actor = current_actor()
    found = queries.get_session(actor, path_id(session_id))
    slots = queries.slots_of([found.id])[found.id]
    me = _contact_of(actor)
    record, lines, changes = queries.record_of(found)
    return render_template(
        "rota/session.html", title=f"Drop-in, {found.date:%A} {found.date.day} {found.date:%B %Y}", s=found,
        slots=slots, today=today(), me=me, actor_agency=actor.agency_id,
        can_manage=policies.can_manage_rota(actor), can_record=policies.can_record_session(actor),
        can_take=not actor.is_staff and policies.acts_for(actor, actor.agency_id),
        answers={slot.id: policies.can_answer_slot(actor, slot, me) for slot in slots},
        shows={slot.id: queries.shows_attendee(actor, slot) for slot in slots},
        contacts=_agency_contacts(actor.agency_id) if actor.agency_id and not actor.is_staff else [],
        partners=[(a.id, a.name) for a in _partners()], services=SERVICE_OPTIONS,
        record=record, lines=lines, changes=changes,
    )  # fmt: skip


class TakeForm(ma.Schema):
    agency_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)
    contact_id = fields.Integer(strict=False, validate=ID_RANGE, allow_none=True, load_default=None)


@bp.post("/rota/slots/<slot_id>/take")
@signed_in()
def take(slot_id: str) -> Any:
    actor = current_actor()
    slot = queries.get_slot(actor, path_id(slot_id))
    data, _errors, _ = load_form(TakeForm(), request.form)
    agency_id = (data or {}).get("agency_id") or actor.agency_id
    if data is None or agency_id is None:
        flash("Choose the agency", "error")
        return _back(slot.session_id, f"slot-{slot.id}")
    return _act(slot.session_id, lambda: services.take_slot(actor, slot, agency_id, data.get("contact_id")),
                f"{slot.service.label}: taken.", f"slot-{slot.id}")  # fmt: skip


@bp.post("/rota/slots/<slot_id>/confirm")
@signed_in()
def confirm(slot_id: str) -> Any:
    actor = current_actor()
    slot = queries.get_slot(actor, path_id(slot_id))
    return _act(slot.session_id, lambda: services.confirm_slot(actor, slot, _contact_of(actor)),
                "Confirmed: thank you.", f"slot-{slot.id}")  # fmt: skip


@bp.post("/rota/slots/<slot_id>/attendee")
@signed_in()
def attendee(slot_id: str) -> Any:
    actor = current_actor()
    slot = queries.get_slot(actor, path_id(slot_id))
    data, _, _ = load_form(TakeForm(), request.form)
    contact_id = (data or {}).get("contact_id")
    return _act(slot.session_id, lambda: services.set_attendee(actor, slot, contact_id), "Who comes is saved.",
                f"slot-{slot.id}")  # fmt: skip


class AskForm(ma.Schema):
    agency_id = fields.Integer(strict=False, validate=ID_RANGE, required=True,
                               error_messages={"required": "Choose the agency to ask"})  # fmt: skip


@bp.post("/rota/slots/<slot_id>/ask")
@signed_in(staff=True)
def ask(slot_id: str) -> Any:
    actor = current_actor()
    slot = queries.get_slot(actor, path_id(slot_id))
    data, _errors, _ = load_form(AskForm(), request.form)
    if data is None:
        flash("Choose the agency to ask", "error")
        return _back(slot.session_id, f"slot-{slot.id}")
    return _act(slot.session_id, lambda: services.ask_agency(actor, slot, data["agency_id"]),
                "Asked: they have been told.", f"slot-{slot.id}")  # fmt: skip


@bp.route("/rota/slots/<slot_id>/cant-attend", methods=["GET", "POST"])
@signed_in()
def cant_attend(slot_id: str) -> Any:
    actor = current_actor()
    slot = queries.get_slot(actor, path_id(slot_id))
    found = db.session.get_one(RotaSession, slot.session_id)
    me = _contact_of(actor)
    if not policies.can_answer_slot(actor, slot, me):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        asked, errors, values = submit(schemas.RotaReasonIn(), request.form,
                                       lambda d: services.cant_attend(actor, slot, d["reason"], me))  # fmt: skip
        if not errors:
            flash(f"The slot is open again; {asked} other agencies offering it were asked to cover.", "success")
            return _back(found.id)
    return render_template("rota/cant_attend.html", title="We can't come", slot=slot, s=found, errors=errors,
                           values=values), (422 if errors else 200)  # fmt: skip


# Managers: the session -------------------------------------------------------------------------


@bp.route("/rota/sessions/<session_id>/edit", methods=["GET", "POST"])
@signed_in(staff=True)
def edit_session(session_id: str) -> Any:
    actor = current_actor()
    found = queries.get_session(actor, path_id(session_id))
    if not policies.can_edit_session(actor):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"starts_at": f"{found.starts_at:%H:%M}", "ends_at": f"{found.ends_at:%H:%M}",
                              "venue": found.venue}  # fmt: skip
    if request.method == "POST":
        _, errors, values = submit(
            schemas.SessionPatch(), request.form, lambda d: services.edit_session(actor, found, d)
        )
        if not errors:
            flash("This week's session is changed; everyone booked has been told.", "success")
            return _back(found.id)
    return render_template("rota/session_form.html", title="Change this week only", s=found, errors=errors,
                           values=values), (422 if errors else 200)  # fmt: skip


@bp.route("/rota/sessions/<session_id>/cancel", methods=["GET", "POST"])
@signed_in(staff=True)
def cancel_session(session_id: str) -> Any:
    actor = current_actor()
    found = queries.get_session(actor, path_id(session_id))
    if not policies.can_cancel_session(actor):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"reason": f"{found.bank_holiday} (bank holiday)" if found.bank_holiday else ""}
    if request.method == "POST":
        told, errors, values = submit(schemas.RotaReasonIn(), request.form,
                                      lambda d: services.cancel_session(actor, found, d["reason"]))  # fmt: skip
        if not errors:
            flash(f"The session is cancelled; {told} people booked for it have been told.", "success")
            return _back(found.id)
    return render_template("rota/cancel.html", title="Cancel this session", s=found, errors=errors,
                           values=values), (422 if errors else 200)  # fmt: skip


@bp.post("/rota/sessions/<session_id>/slots")
@signed_in(staff=True)
def add_slot(session_id: str) -> Any:
    actor = current_actor()
    found = queries.get_session(actor, path_id(session_id))
    data, _errors, _ = load_form(schemas.SlotIn(), request.form)
    if data is None:
        flash("Choose the service", "error")
        return _back(found.id)
    return _act(found.id, lambda: services.add_slot(actor, found, data["service"]), "Slot added.")


class RecordForm(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # the per-agency fields ("attendance-<id>", "women_seen-<id>") are read below

    women_attended = fields.Integer(strict=False, validate=schemas.COUNT, required=True,
                                    error_messages={"required": "Enter how many women came",
                                                    "invalid": "Enter a whole number"})  # fmt: skip
    new_women = fields.Integer(strict=False, validate=schemas.COUNT, required=True,
                               error_messages={"required": "Enter how many were new",
                                               "invalid": "Enter a whole number"})  # fmt: skip
    finalise = fields.Boolean(load_default=False)
    reason = fields.String(validate=validate.Length(max=1000), load_default="")


@bp.route("/rota/sessions/<session_id>/record", methods=["GET", "POST"])
@signed_in(staff=True)
def record(session_id: str) -> Any:
    actor = current_actor()
    found = queries.get_session(actor, path_id(session_id))
    existing, lines, changes = queries.record_of(found)
    slots = queries.slots_of([found.id])[found.id]
    agency_ids = list(dict.fromkeys([s.agency_id for s in slots if s.agency_id] + [line.agency_id for line in lines]))
    names = {a.id: a.name for a in db.session.scalars(db.select(Agency).where(Agency.id.in_(agency_ids)))}
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if existing is not None:
        values = {"women_attended": existing.women_attended, "new_women": existing.new_women}
        values.update({f"attendance-{line.agency_id}": line.attendance.value for line in lines})
        values.update({f"women_seen-{line.agency_id}": line.women_seen for line in lines})
    if request.method == "POST":
        values = dict(request.form)
        data, errors, _ = load_form(RecordForm(), request.form)
        agencies = []
        for agency_id in agency_ids:
            how = request.form.get(f"attendance-{agency_id}", "")
            seen = request.form.get(f"women_seen-{agency_id}", "").strip() or "0"
            if not how:
                continue
            if how not in {a.value for a in Attendance}:
                errors[f"attendance-{agency_id}"] = ["Choose how it went"]
            elif not (seen.isascii() and seen.isdigit() and int(seen) <= 10_000):
                errors[f"women_seen-{agency_id}"] = ["Enter a whole number from 0 to 10,000"]
            else:
                agencies.append({"agency_id": agency_id, "attendance": Attendance(how), "women_seen": int(seen)})
        if data is not None and not errors:
            data["agencies"] = agencies
            try:
                with unit_of_work():
                    services.record_session(actor, found, data)
            except Invalid as exc:
                errors = exc.errors or {"_schema": [exc.detail]}
            except Conflict as exc:
                errors = {"_schema": [exc.detail]}
            else:
                flash("The session record is saved.", "success")
                return _back(found.id, "record")
    return render_template(
        "rota/record.html", title="Record the session", s=found, errors=errors, values=values, existing=existing,
        agencies=[(i, names.get(i, "")) for i in agency_ids], attendance=[(a.value, a.label) for a in Attendance],
        changes=changes,
    ), (422 if errors else 200)  # fmt: skip


# Commitments ------------------------------------------------------------------------------------


class CommitmentForm(ma.Schema):
    agency_id = fields.Integer(strict=False, validate=ID_RANGE, load_default=None)
    service = schemas._enum(Service, "Choose a service from the list", required=True,
                            error_messages={"required": "Choose the service"})  # fmt: skip
    contact_id = fields.Integer(strict=False, validate=ID_RANGE, allow_none=True, load_default=None)
    weekdays_of_month = fields.List(fields.Integer(strict=False, validate=validate.Range(min=1, max=5)),
                                    load_default=None)  # fmt: skip
    starts_on = schemas.FlexibleDate(required=True, error_messages={"required": "Enter the first day"})
    ends_on = schemas.FlexibleDate(allow_none=True, load_default=None)


@bp.get("/rota/commitments")
@signed_in()
def commitments() -> Any:
    actor = current_actor()
    return render_template("rota/commitments.html", title="Standing commitments",
                           commitments=queries.commitments_of(actor),
                           can_commit=policies.acts_for(actor, actor.agency_id))  # fmt: skip


@bp.route("/rota/commitments/new", methods=["GET", "POST"])
@signed_in()
def new_commitment() -> Any:
    actor = current_actor()
    if not (policies.can_manage_rota(actor) or policies.acts_for(actor, actor.agency_id)):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"starts_on": f"{today():%-d/%-m/%Y}"}
    if request.method == "POST":

        def create(d: dict[str, Any]) -> Any:
            if not d.get("agency_id"):
                d["agency_id"] = actor.agency_id
            if not d["agency_id"]:
                raise Invalid.on_field("agency_id", "Choose the agency")
            return services.create_commitment(actor, d)

        result, errors, values = submit(CommitmentForm(), request.form, create, list_fields=("weekdays_of_month",))
        if not errors:
            flash(f"Committed: {result.pattern.lower()}, {result.service.label.lower()}. The matching slots are "
                  "yours.", "success")  # fmt: skip
            return redirect(url_for("rota.commitments"))
    return render_template(
        "rota/commitment_form.html", title="Commit to the drop-in", errors=errors, values=values,
        services=SERVICE_OPTIONS, ordinals=ORDINALS, manager=policies.can_manage_rota(actor),
        partners=[(a.id, a.name) for a in _partners()],
        contacts=_agency_contacts(actor.agency_id) if actor.agency_id and not actor.is_staff else [],
    ), (422 if errors else 200)  # fmt: skip


@bp.post("/rota/commitments/<commitment_id>/end")
@signed_in()
def end_commitment(commitment_id: str) -> Any:
    actor = current_actor()
    commitment = queries.get_commitment(actor, path_id(commitment_id))
    try:
        with unit_of_work():
            released = services.end_commitment(actor, commitment)
    except (Conflict, Denied) as exc:
        flash(exc.detail, "error")
    else:
        flash(f"Ended from today: {released} future slots are open again.", "success")
    return redirect(url_for("rota.commitments"))


# Set-up, reliability, feeds ---------------------------------------------------------------------


class SeriesForm(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120, error="Enter a name"),
                         error_messages={"required": "Enter a name"})  # fmt: skip
    weekday = fields.Integer(strict=False, validate=validate.Range(min=0, max=6), load_default=2)
    starts_at = schemas.ClockTime(required=True, error_messages={"required": "Enter the start time"})
    ends_at = schemas.ClockTime(required=True, error_messages={"required": "Enter the end time"})
    venue = fields.String(required=True, validate=validate.Length(min=1, max=300, error="Enter the venue"),
                          error_messages={"required": "Enter the venue"})  # fmt: skip
    weeks_ahead = fields.Integer(strict=False, validate=validate.Range(min=1, max=52, error="From 1 to 52 weeks"),
                                 load_default=12)  # fmt: skip
    wanted_services = fields.List(schemas._enum(Service, "Choose from the list"), load_default=list)


@bp.route("/rota/settings", methods=["GET", "POST"])
@signed_in(staff=True)
def settings() -> Any:
    actor = current_actor()
    if not policies.can_save_series(actor):
        abort(403)
    running = [s for s in queries.series() if s.ends_on is None]
    current = running[0] if running else None
    values: dict[str, Any] = {"name": "Wonder Women Wednesdays", "weekday": 2, "starts_at": "10:00", "ends_at": "14:00",
                              "weeks_ahead": 12, "wanted_services": ["housing", "idva", "substance_use"]}  # fmt: skip
    if current is not None:
        values = {"name": current.name, "weekday": current.weekday, "starts_at": f"{current.starts_at:%H:%M}",
                  "ends_at": f"{current.ends_at:%H:%M}", "venue": current.venue, "weeks_ahead": current.weeks_ahead,
                  "wanted_services": current.wanted_services}  # fmt: skip
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        _, errors, values = submit(SeriesForm(), request.form, lambda d: services.save_series(actor, current, d),
                                   list_fields=("wanted_services",))  # fmt: skip
        if not errors:
            flash(
                "Saved for all future weeks (sessions changed for one week keep their own time and place).", "success"
            )
            return redirect(url_for("rota.index"))
    return render_template("rota/settings.html", title="Set up the drop-in", values=values, errors=errors,
                           current=current, weekdays=list(enumerate(WEEKDAYS)), services=SERVICE_OPTIONS), (
        422 if errors else 200)  # fmt: skip


@bp.get("/rota/reliability")
@signed_in()
def reliability() -> Any:
    actor = current_actor()
    every = policies.can_see_reliability(actor, None)
    if not every and not policies.can_see_reliability(actor, actor.agency_id):
        abort(403)
    end = today()
    start = end - dt.timedelta(weeks=26)
    rows = queries.reliability(start, end, None if every else [actor.agency_id or 0])
    return render_template("rota/reliability.html", title="Drop-in attendance by agency", rows=rows, start=start,
                           end=end, every=every)  # fmt: skip


@bp.route("/rota/feeds", methods=["GET", "POST"])
@signed_in()
def calendar_feeds() -> Any:
    actor = current_actor()
    made: str | None = None
    if request.method == "POST":
        choice = request.form.get("agency_id", "")
        agency_id = None if choice in ("", "all") else path_id(choice)
        if not actor.is_staff:
            agency_id = actor.agency_id
        try:
            with unit_of_work():
                _, token = services.create_feed(actor, agency_id)
        except (Denied, Invalid) as exc:
            flash(exc.detail, "error")
        else:
            made = url_for("rota.calendar_feed", token=token, _external=True)
    return render_template("rota/feeds.html", title="Calendar feeds", feeds=queries.feeds_of(actor), made=made,
                           staff=actor.is_staff, partners=[(a.id, a.name) for a in _partners()],
                           can_make=actor.is_staff or policies.acts_for(actor, actor.agency_id))  # fmt: skip


@bp.post("/rota/feeds/<feed_id>/revoke")
@signed_in()
def revoke_feed(feed_id: str) -> Any:
    actor = current_actor()
    feed = queries.get_feed(actor, path_id(feed_id))
    with unit_of_work():
        services.revoke_feed(actor, feed)
    flash("Revoked: that address no longer works.", "success")
    return redirect(url_for("rota.calendar_feeds"))


@bp.get("/calendar/<token>.ics")
@public
def calendar_feed(token: str) -> Any:
    if not (8 <= len(token) <= 100 and token.isascii()):
        abort(404)
    feed = queries.live_feed(feeds.token_hash(token))
    if feed is None:
        abort(404)
    name = f"Drop-in: {feed.agency.name}" if feed.agency else "Drop-in rota"
    body = feeds.calendar(name, feeds.events_for(feed.agency_id))
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# Answer links: a reminder's recipient answers without signing in -------------------------------


def _answerable(slot_id: str, who: str, mac: str) -> tuple[Any, RotaSession]:
    found = links.valid(path_id(slot_id), who, mac) if slot_id.isdigit() and len(mac) <= 64 else None
    if found is None:
        abort(404)
    return found


@bp.route("/rota/answer/<slot_id>/<who>/<mac>", methods=["GET", "POST"])
@public
def answer(slot_id: str, who: str, mac: str) -> Any:
    """The page a reminder links to: confirm, or say the agency cannot come. The link is the permission
    (:mod:`rota.links`): it works for this slot while this agency holds it, until the day."""
    slot, found = _answerable(slot_id, who, mac)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    done = ""
    if request.method == "POST":
        if request.form.get("answer") == "confirm":
            with unit_of_work():
                services.confirm_slot(SYSTEM, slot, by_link=who)
            done = "confirmed"
        else:
            form = MultiDict([("reason", request.form.get("reason", ""))])  # the reason alone: "answer" is the button

            def give_back(d: dict[str, Any]) -> int:
                return services.cant_attend(SYSTEM, slot, d["reason"], by_link=who)

            _, errors, values = submit(schemas.RotaReasonIn(), form, give_back)
            if not errors:
                done = "given_back"
    response = Response(render_template(
        "rota/answer.html", title="The drop-in: are you coming?", slot=slot, s=found, errors=errors, values=values,
        done=done, agency=db.session.get(Agency, slot.agency_id) if slot.agency_id else None,
    ), status=422 if errors else 200)  # fmt: skip
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
