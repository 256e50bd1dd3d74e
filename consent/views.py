"""HTML pages of the consent package: thin — parse, call the service, render.

Everything here is for host-organisation staff: anyone else gets 404, as if
the woman did not exist. Deciding to share without consent is for managers.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import marshmallow as ma
from dateutil.relativedelta import relativedelta
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from marshmallow import fields, validate
from werkzeug.wrappers import Response

from agencies import queries as directory
from consent import policies, queries, schemas, services
from consent.information import INFORMATION, INFORMATION_VERSION
from consent.models import (
    CATEGORY_LABELS,
    Art6Basis,
    Art9Condition,
    ConsentMethod,
    ConsentStatus,
    DataCategory,
    Para18Reason,
    Purpose,
)
from consent.needs import EXPIRING_DAYS, expiring_window
from hub import registry
from hub.db import today, unit_of_work
from hub.notifications import services as notifications
from hub.notifications.models import Notification
from hub.permissions import Actor, Conflict, Invalid
from hub.settings_access import settings
from hub.web.forms import path_id, submit
from hub.web.guards import current_actor, signed_in

bp = Blueprint("consent", __name__, template_folder="templates")
PER_PAGE = 25
SEARCH_RESULTS = 50  # a search shows this many at most: add more of her name to narrow it
CHOICE_FIELDS = ("purposes", "data_categories")

METHOD_LABELS = {
    ConsentMethod.VERBAL: "She said so (verbal)",
    ConsentMethod.WRITTEN: "She signed a form (written)",
    ConsentMethod.ELECTRONIC: "She agreed by email, text or online (electronic)",
}
ART6_LABELS = {
    Art6Basis.VITAL_INTERESTS: "Art. 6(1)(d): to protect her vital interests, or someone else's",
    Art6Basis.PUBLIC_TASK: "Art. 6(1)(e): a task in the public interest",
    Art6Basis.LEGITIMATE_INTERESTS: "Art. 6(1)(f): legitimate interests",
}
ART9_LABELS = {
    Art9Condition.SUBSTANTIAL_PUBLIC_INTEREST: (
        "Art. 9(2)(g): substantial public interest, under DPA 2018 Sch. 1 para 18 (safeguarding of individuals at risk)"
    ),
    Art9Condition.VITAL_INTERESTS: "Art. 9(2)(c): vital interests, where she cannot give consent",
}


class _RejectIn(ma.Schema):
    reject_reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=schemas.LONG),
        error_messages={"required": "Say why the decision is rejected"},
    )


class _EndIn(ma.Schema):
    end_reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=schemas.LONG),
        error_messages={"required": "Say why sharing should stop"},
    )


@bp.app_template_filter("category_label")
def category_label(value: str) -> str:
    """What a data category means, in words (for every package's pages)."""
    return CATEGORY_LABELS.get(value, value)  # type: ignore[call-overload]


@bp.app_template_filter("purpose_label")
def purpose_label(value: str) -> str:
    return Purpose(value).label if value in Purpose._value2member_map_ else value


def _staff_or_404(actor: Actor) -> None:
    if not policies.can_view_service_users(actor):
        abort(404)


def _options(enum_cls: Any, labels: dict[Any, str] | None = None) -> list[tuple[str, str]]:
    return [(m.value, labels[m] if labels else m.label) for m in enum_cls]


def _day(value: dt.date) -> str:
    return f"{value.day}/{value.month}/{value.year}"


def information(agency_name: str, expires_on: dt.date) -> tuple[list[str], list[str]]:
    """The plain-language text to read to her, as its opening paragraphs and its points."""
    text = INFORMATION.format(agency=agency_name, expires=f"{expires_on:%-d %B %Y}")
    opening: list[str] = []
    points: list[str] = []
    for line in text.splitlines():
        if line.startswith("- "):
            points.append(line[2:].strip())
        elif line.startswith("  ") and points:
            points[-1] += " " + line.strip()
        elif line.strip():
            opening.append(line.strip())
    return opening, points


# Service users -------------------------------------------------------------------


@bp.route("/service-users", methods=["GET", "POST"])
@signed_in()
def service_users() -> Any:
    """Everyone, page by page; a search is posted, so her name never appears in a URL or a log."""
    actor = current_actor()
    q = request.form.get("q", "").strip()[:100] or None if request.method == "POST" else None
    page = 1 if q else max(1, min(request.args.get("page", 1, type=int) or 1, 100000))
    people, total = queries.list_service_users(actor, q=q, page=page, per_page=SEARCH_RESULTS if q else PER_PAGE)
    return render_template(
        "consent/service_users.html",
        title="Service users",
        people=people,
        total=total,
        q=q or "",
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        can_decide=policies.can_decide_safeguarding(actor),
    )


@bp.route("/service-users/new", methods=["GET", "POST"])
@signed_in()
def create_service_user() -> Any:
    actor = current_actor()
    _staff_or_404(actor)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"key_worker_id": actor.actor_id}
    if request.method == "POST":
        person, errors, values = submit(
            schemas.ServiceUserIn(), request.form, lambda d: services.create_service_user(actor, d)
        )
        if person is not None:
            flash(f"{person.full_name} has been added, with reference {person.reference}.")
            return redirect(url_for("consent.service_user", service_user_id=person.id))
    return render_template(
        "consent/service_user_form.html",
        title="Add a service user",
        errors=errors,
        values=values,
        staff=directory.active_staff(),
    ), (422 if errors else 200)


@bp.get("/service-users/<service_user_id>")
@signed_in()
def service_user(service_user_id: str) -> Any:
    actor = current_actor()
    person = queries.get_service_user(actor, path_id(service_user_id))
    disclosures = queries.disclosures_of(actor, person)
    sections = [
        section
        for provider in registry.providers("service_user_sections")
        if isinstance(section := provider(person, actor), Markup)
    ]
    return render_template(
        "consent/service_user.html",
        title=person.full_name,
        person=person,
        consents=queries.consents_of(person),
        decisions=queries.decisions_of(person),
        disclosures=disclosures,
        actors=queries.disclosure_actors(disclosures),
        sections=sections,
        can_decide=policies.can_decide_safeguarding(actor),
        today=today(),
        can_subject_access=policies.can_make_subject_access_pack(actor, person),
        can_correct=policies.can_correct_service_user(actor, person),
        can_erase=policies.can_erase_on_request(actor, person),
        packs=queries.packs_of(person) if policies.can_view_subject_access_pack(actor, person) else [],
    )


@bp.route("/service-users/<service_user_id>/correct", methods=["GET", "POST"])
@signed_in(staff=True)
def correct_service_user(service_user_id: str) -> Any:
    actor = current_actor()
    person = queries.get_service_user(actor, path_id(service_user_id))
    if not policies.can_correct_service_user(actor, person):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"given_name": person.given_name, "family_name": person.family_name,
                              "date_of_birth": person.date_of_birth.strftime("%-d/%-m/%Y") if person.date_of_birth
                              else ""}  # fmt: skip
    if request.method == "POST":
        changed, errors, values = submit(schemas.ServiceUserCorrection(), request.form,
                                         lambda d: services.correct_service_user(actor, person, d))  # fmt: skip
        if not errors:
            flash("Her details are corrected; every agency that was given who she is has been told to update "
                  "theirs." if changed else "Nothing changed.")  # fmt: skip
            return redirect(url_for("consent.service_user", service_user_id=person.id))
    return render_template("consent/correct.html", title=f"Correct {person.full_name}'s details", person=person,
                           errors=errors, values=values), (422 if errors else 200)  # fmt: skip


@bp.post("/service-users/<service_user_id>/subject-access")
@signed_in(staff=True)
def make_subject_access(service_user_id: str) -> Any:
    actor = current_actor()
    person = queries.get_service_user(actor, path_id(service_user_id))
    with unit_of_work():
        pack = services.make_subject_access_pack(actor, person)
    flash("Her subject-access pack is made. Giving it to her is recorded.")
    return redirect(url_for("consent.subject_access_pack", service_user_id=person.id, pack_id=pack.id))


def _pack(service_user_id: str, pack_id: str) -> tuple[Any, Any]:
    actor = current_actor()
    person = queries.get_service_user(actor, path_id(service_user_id))
    if not policies.can_view_subject_access_pack(actor, person):
        abort(403)
    return person, queries.get_pack(person, path_id(pack_id))


@bp.get("/service-users/<service_user_id>/subject-access/<pack_id>")
@signed_in(staff=True)
def subject_access_pack(service_user_id: str, pack_id: str) -> Any:
    person, pack = _pack(service_user_id, pack_id)
    return render_template("consent/subject_access.html", title="Subject-access pack", person=person, pack=pack,
                           contents=pack.contents)  # fmt: skip


@bp.get("/service-users/<service_user_id>/subject-access/<pack_id>.json")
@signed_in(staff=True)
def subject_access_file(service_user_id: str, pack_id: str) -> Any:
    person, pack = _pack(service_user_id, pack_id)
    body = json.dumps(pack.contents, ensure_ascii=False, indent=1)
    return Response(body, content_type="application/json; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="subject-access-{person.reference}-{pack.id}.json"',
        "Cache-Control": "no-store"})  # fmt: skip


# Consent ----------------------------------------------------------------------------


@bp.route("/service-users/<service_user_id>/consents/new", methods=["GET", "POST"])
@signed_in()
def record_consent(service_user_id: str) -> Any:
    """Step 1 chooses the agency (the text read to her names it); step 2 records what she agreed to."""
    actor = current_actor()
    person = queries.get_service_user(actor, path_id(service_user_id))
    agencies = directory.partner_agencies()
    chosen = request.values.get("agency_id")
    agency = next((a for a in agencies if str(a.id) == chosen), None)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"given_on": _day(today())}
    if agency is None:
        if chosen is not None:
            errors = {"agency_id": ["Choose the agency she agrees we can share with"]}
        return render_template(
            "consent/choose_agency.html",
            title="Record consent: choose the agency",
            errors=errors,
            person=person,
            agencies=agencies,
        ), (422 if errors else 200)
    if request.method == "POST":
        record, errors, values = submit(
            schemas.ConsentIn(),
            request.form,
            lambda d: services.record_consent(actor, person, d),
            CHOICE_FIELDS,
        )
        if record is not None:
            flash(f"Her consent to share with {agency.name} is recorded, until {record.expires_on:%-d %B %Y}.")
            return redirect(url_for("consent.service_user", service_user_id=person.id))
    default_expiry = today() + relativedelta(months=settings().consent_default_months)
    opening, points = information(agency.name, default_expiry)
    return render_template(
        "consent/consent_form.html",
        title=f"Record consent to share with {agency.name}",
        errors=errors,
        values=values,
        person=person,
        agency=agency,
        opening=opening,
        points=points,
        version=INFORMATION_VERSION,
        default_expiry=default_expiry,
        purposes=_options(Purpose),
        categories=_options(DataCategory),
        methods=_options(ConsentMethod, METHOD_LABELS),
    ), (422 if errors else 200)


@bp.route("/consents/<consent_id>/withdraw", methods=["GET", "POST"])
@signed_in()
def withdraw_consent(consent_id: str) -> Any:
    actor = current_actor()
    record = queries.get_consent(actor, path_id(consent_id))
    if record.status is not ConsentStatus.ACTIVE:
        flash(f"This consent is already {record.status.value}: nothing is shared on it.")
        return redirect(url_for("consent.service_user", service_user_id=record.service_user_id))
    person = queries.get_service_user(actor, record.service_user_id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        try:
            done, errors, values = submit(
                schemas.WithdrawIn(), request.form, lambda d: services.withdraw_consent(actor, record, d["reason"])
            )
            status = 422
        except Conflict as exc:  # withdrawn by someone else meanwhile
            done, errors, status = None, {"_schema": [exc.detail]}, 409
        if done is not None:
            flash(
                f"Her consent to share with {record.agency.name} is withdrawn. Nothing more is shared on it, "
                "and any open referrals that relied on it are on hold."
            )
            return redirect(url_for("consent.service_user", service_user_id=person.id))
    return render_template(
        "consent/withdraw.html",
        title=f"Withdraw consent to share with {record.agency.name}",
        errors=errors,
        values=values,
        record=record,
        person=person,
    ), status


# Safeguarding -------------------------------------------------------------------------


@bp.route("/service-users/<service_user_id>/safeguarding/new", methods=["GET", "POST"])
@signed_in()
def decide_safeguarding(service_user_id: str) -> Any:
    actor = current_actor()
    person = queries.get_service_user(actor, path_id(service_user_id))
    if not policies.can_decide_safeguarding(actor):
        abort(403, description="Only a manager can decide to share without her consent.")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        decision, errors, values = submit(
            schemas.SafeguardingIn(),
            request.form,
            lambda d: services.decide_safeguarding(actor, person, d),
            CHOICE_FIELDS,
        )
        if decision is not None:
            if decision.emergency:
                flash(
                    "The emergency decision is recorded and sharing may start now. A second manager must approve "
                    f"it by {decision.approval_due_on:%-d %B %Y}."
                )
            else:
                flash("The decision is recorded. Nothing is shared until a second manager approves it.")
            return redirect(url_for("consent.decision", decision_id=decision.id))
    return render_template(
        "consent/safeguarding_form.html",
        title="Decide to share without her consent",
        errors=errors,
        values=values,
        person=person,
        agencies=directory.partner_agencies(),
        purposes=_options(Purpose),
        categories=_options(DataCategory),
        art6=_options(Art6Basis, ART6_LABELS),
        art9=_options(Art9Condition, ART9_LABELS),
        para18=_options(Para18Reason),
        approval_days=settings().emergency_approval_days,
    ), (422 if errors else 200)


def _decision_page(
    actor: Actor, decision_id: int, errors: dict[str, list[str]] | None = None, status: int = 200
) -> Any:
    decision = queries.get_decision(actor, decision_id)
    if actor.actor_id is not None and status == 200:
        with unit_of_work():  # opened: the viewer's notifications about it are read
            notifications.mark_read_about(Notification.user_id == actor.actor_id, f"/safeguarding/{decision.id}")
        decision = queries.get_decision(actor, decision_id)
    return render_template(
        "consent/decision.html",
        title=f"Safeguarding decision {decision.id}",
        errors=errors or {},
        values=request.form if errors else {},
        decision=decision,
        person=decision.service_user,
        overdue=queries.emergency_overdue(decision),
        can_approve=policies.can_approve_safeguarding(actor, decision),
        can_reject=policies.can_reject_safeguarding(actor, decision),
        is_decider=actor.actor_kind == "user" and actor.actor_id == decision.decided_by_id,
        can_end=policies.can_end_safeguarding(actor, decision),
        art6=ART6_LABELS,
        art9=ART9_LABELS,
    ), status


@bp.get("/safeguarding/<decision_id>")
@signed_in()
def decision(decision_id: str) -> Any:
    return _decision_page(current_actor(), path_id(decision_id))


def _review(decision_id: str, schema: ma.Schema | None, action: Any, done: str) -> Any:
    actor = current_actor()
    number = path_id(decision_id)
    decision = queries.get_decision(actor, number)
    try:
        if schema is None:
            with unit_of_work():
                action(actor, decision, {})
            errors: dict[str, list[str]] = {}
        else:
            _result, errors, _raw = submit(schema, request.form, lambda d: action(actor, decision, d) or True)
    except Conflict as exc:
        return _decision_page(actor, number, {"_schema": [exc.detail]}, 409)
    except Invalid as exc:
        return _decision_page(actor, number, exc.errors or {"_schema": [exc.detail]}, 422)
    if errors:
        return _decision_page(actor, number, errors, 422)
    flash(done)
    return redirect(url_for("consent.decision", decision_id=number))


@bp.post("/safeguarding/<decision_id>/approve")
@signed_in()
def approve_decision(decision_id: str) -> Response:
    return _review(
        decision_id,
        None,
        lambda actor, d, _data: services.approve_safeguarding(actor, d),
        "The decision is approved: sharing on it may go ahead until its review date.",
    )


@bp.post("/safeguarding/<decision_id>/reject")
@signed_in()
def reject_decision(decision_id: str) -> Response:
    return _review(
        decision_id,
        _RejectIn(),
        lambda actor, d, data: services.reject_safeguarding(actor, d, data["reject_reason"]),
        "The decision is rejected: nothing is shared on it, and any sharing already started has stopped.",
    )


@bp.post("/safeguarding/<decision_id>/end")
@signed_in()
def end_decision(decision_id: str) -> Response:
    return _review(
        decision_id,
        _EndIn(),
        lambda actor, d, data: services.end_safeguarding(actor, d, data["end_reason"]),
        "The decision has ended: nothing more is shared on it.",
    )


@bp.get("/consents/expiring")
@signed_in()
def expiring() -> Any:
    """Active consents ending in the next 30 days, soonest first; ``mine=1``: the caseload's only."""
    actor = current_actor()
    mine = request.args.get("mine") == "1"
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100000))
    start, end = expiring_window()
    consents, total = queries.expiring_consents(
        actor, start, end, key_worker_id=actor.actor_id if mine else None, page=page, per_page=PER_PAGE
    )
    return render_template(
        "consent/expiring.html",
        title="Consents ending soon",
        consents=consents,
        total=total,
        mine=mine,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        days=EXPIRING_DAYS,
    )


@bp.get("/safeguarding")
@signed_in()
def awaiting_approval() -> Any:
    actor = current_actor()
    decisions = queries.decisions_awaiting_approval(actor)
    on = today()
    return render_template(
        "consent/awaiting_approval.html",
        title="Safeguarding decisions awaiting approval",
        decisions=[(d, queries.emergency_overdue(d, on)) for d in decisions],
        actor_id=actor.actor_id,
    )


# Retention ---------------------------------------------------------------------------------


@bp.get("/retention")
@signed_in(staff=True)
def retention_page() -> Any:
    actor = current_actor()
    if not policies.can_see_retention(actor):
        abort(403)
    from consent import retention

    on = today() + dt.timedelta(days=31)
    due = retention.due(retention.cutoff(on, settings().retention_years), limit=RETENTION_SHOWN)
    return render_template("consent/retention.html", title="Retention: what will be erased", due=due, on=on,
                           years=settings().retention_years, holds=queries.standing_holds(),
                           shown=RETENTION_SHOWN)  # fmt: skip


RETENTION_SHOWN = 200


@bp.post("/retention/holds")
@signed_in(staff=True)
def place_hold() -> Any:
    actor = current_actor()
    raw = request.form.get("service_user_id", "")
    person = queries.get_service_user(actor, path_id(raw if raw.isascii() and raw.isdigit() else "0"))
    try:
        with unit_of_work():
            services.place_legal_hold(actor, person, request.form.get("reason", ""))
        flash(f"{person.reference} is held: her record will be kept until the hold is lifted.")
    except Invalid as exc:
        flash(f"Not held: {exc.detail if not exc.errors else next(iter(exc.errors.values()))[0]}.")
    return redirect(url_for("consent.retention_page"))


@bp.post("/retention/holds/<hold_id>/lift")
@signed_in(staff=True)
def lift_hold(hold_id: str) -> Any:
    actor = current_actor()
    hold = queries.get_hold(path_id(hold_id))
    with unit_of_work():
        services.lift_legal_hold(actor, hold)
    flash("The hold is lifted: her record follows the retention rule again.")
    return redirect(url_for("consent.retention_page"))


def _on_request(service_user_id: str, act: Any, done: str) -> Any:
    actor = current_actor()
    person = queries.get_service_user(actor, path_id(service_user_id))
    try:
        with unit_of_work():
            told = act(actor, person, request.form.get("reason", ""))
        flash(done.format(told=told))
    except Invalid as exc:
        flash(f"Nothing was done: {next(iter(exc.errors.values()))[0] if exc.errors else exc.detail}.")
    except Conflict as exc:
        flash(f"Nothing was done: {exc.detail}")
    return redirect(url_for("consent.service_user", service_user_id=person.id))


@bp.post("/service-users/<service_user_id>/restrict")
@signed_in(staff=True)
def restrict_on_request(service_user_id: str) -> Any:
    return _on_request(service_user_id, services.restrict_on_request,
                       "Her record is restricted; {told} agencies were told to stop using it.")  # fmt: skip


@bp.post("/service-users/<service_user_id>/erase")
@signed_in(staff=True)
def erase_on_request(service_user_id: str) -> Any:
    return _on_request(service_user_id, services.erase_on_request,
                       "Her personal data is erased; {told} agencies were told to erase theirs.")  # fmt: skip
