"""HTML pages of the referrals package: thin — parse, call the service, render.

Our staff send referrals and follow them in the referral list; partner staff
work from their inbox. Anything the viewer may not see is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from agencies import queries as directory
from consent import queries as consent_queries
from consent import sharing
from consent.models import DataCategory, Purpose, ServiceUser
from hub.db import today, unit_of_work
from hub.permissions import Actor, Conflict, Invalid
from hub.web.forms import load_form, path_id
from hub.web.guards import current_actor, signed_in
from hub.workdays import working_days_between
from referrals import policies, queries, schemas, services
from referrals.actions import ACTIONS
from referrals.models import Referral, Urgency
from referrals.states import ACTION_LABELS, Status

bp = Blueprint("referrals", __name__, template_folder="templates")
PER_PAGE = 25
# The send form makes referrals for the purpose ``referral``; release planning makes its own.
FORM_PURPOSE = Purpose.REFERRAL.value
# Actions that ask for words first: a reason, or the outcome.
WITH_INPUT = {name: action.asks_for for name, action in ACTIONS.items() if action.asks_for}
EVENT_LABELS = {
    "create": "Draft created",
    "send": "Sent",
    "acknowledge": "Acknowledged",
    "accept": "Accepted",
    "decline": "Declined",
    "start": "Work started",
    "hold": "Put on hold",
    "resume": "Resumed",
    "complete": "Completed",
    "cancel": "Cancelled",
    "readdress": "Readdressed: the person it was addressed to has left",
    "reassign": "Passed to a colleague: the sender has left",
    "reschedule": "Needed-by date changed",
}
URGENCY_OPTIONS = [
    (Urgency.ROUTINE.value, "Routine"),
    (Urgency.URGENT.value, "Urgent", "They are asked to acknowledge it sooner."),
]


def _page_number() -> int:
    return max(1, min(request.args.get("page", 1, type=int) or 1, 100000))


def _status_filter() -> Status | None:
    value = request.args.get("status") or None
    return Status(value) if value in Status._value2member_map_ else None


def _id_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 9 else None


# Lists -------------------------------------------------------------------------------


@bp.get("/referrals")
@signed_in()
def referrals() -> Any:
    """Every referral, for our staff; partners work from their inbox."""
    actor = current_actor()
    if not actor.is_staff:
        return redirect(url_for("referrals.inbox"))
    status, agency_id, service_user_id = _status_filter(), _id_arg("agency_id"), _id_arg("service_user_id")
    result = queries.list_referrals(
        actor,
        status=status,
        agency_id=agency_id,
        service_user_id=service_user_id,
        page=_page_number(),
        per_page=PER_PAGE,
    )
    filters = {
        "status": status.value if status else None,
        "agency_id": agency_id,
        "service_user_id": service_user_id,
    }
    return render_template(
        "referrals/list.html",
        title="Referrals",
        result=result,
        filters=filters,
        statuses=list(Status),
        agencies=directory.partner_agencies(),
        today=today(),
    )


@bp.get("/inbox")
@signed_in()
def inbox() -> Any:
    """Referrals to the signed-in partner's agency, from sent on, deadlines first."""
    actor = current_actor()
    if actor.is_staff:
        return redirect(url_for("referrals.referrals"))
    status = _status_filter()
    with unit_of_work():
        result = queries.list_referrals(actor, status=status, page=_page_number(), per_page=PER_PAGE)
        glimpses = services.glimpse_referrals(actor, result.items)
        return render_template(
            "referrals/inbox.html",
            title="Referrals inbox",
            result=result,
            glimpses=glimpses,
            status=status.value if status else None,
            statuses=[s for s in Status if s is not Status.DRAFT],
            user_id=actor.actor_id,
            today=today(),
        )


@bp.get("/overdue")
@signed_in()
def overdue() -> Any:
    """Referrals past their acknowledge-by or decide-by date: all for our staff, their agency's for partners."""
    actor = current_actor()
    result = queries.list_referrals(actor, overdue=True, page=_page_number(), per_page=PER_PAGE)
    on = today()
    return render_template(
        "referrals/overdue.html",
        title="Overdue referrals",
        result=result,
        staff=actor.is_staff,
        user_id=actor.actor_id,
        today=on,
        # How late each is, in working days, as its deadline was set (a deadline is always a working
        # day, so 0 means it fell on the working day before a weekend or bank holiday: "late since").
        late={r.id: working_days_between(r.due_on, on) for r in result.items if r.due_on},
    )


def service_user_section(person: ServiceUser, actor: Actor | None = None, **_kw: Any) -> Markup | None:
    """Her referrals, for her page (registered as a ``service_user_sections`` provider)."""
    if actor is None or not actor.is_staff:
        return None
    result = queries.list_referrals(actor, service_user_id=person.id, per_page=PER_PAGE)
    return Markup(  # noqa: S704 - a rendered, autoescaped template
        render_template("referrals/_service_user_referrals.html", person=person, result=result, today=today())
    )


# Sending -------------------------------------------------------------------------------


def _missing_errors(exc: Invalid, agency_name: str, purpose: str = FORM_PURPOSE) -> dict[str, list[str]]:
    """What a consent check lacked, as form errors a person can act on."""
    if isinstance(exc, sharing.NotCovered) and "missing" in exc.extra:  # our own staff: say what is missing
        return {"_schema": [exc.detail], **exc.missing.describe(agency_name, purpose)}
    return exc.errors or {"_schema": [exc.detail]}


@bp.route("/service-users/<service_user_id>/referrals/new", methods=["GET", "POST"])
@signed_in()
def send_referral(service_user_id: str) -> Any:
    """Step 1 chooses the agency; step 2 shows what her consent covers there, then sends (or saves a draft)."""
    actor = current_actor()
    person = consent_queries.get_service_user(actor, path_id(service_user_id))
    agencies = directory.partner_agencies()
    chosen = request.values.get("agency_id")
    agency = next((a for a in agencies if str(a.id) == chosen), None)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"urgency": Urgency.ROUTINE.value}
    if agency is None:
        if chosen is not None:
            errors = {"agency_id": ["Choose the agency to refer her to"]}
        return render_template(
            "referrals/choose_agency.html",
            title="Send a referral: choose the agency",
            errors=errors,
            person=person,
            agencies=agencies,
        ), (422 if errors else 200)
    if request.method == "POST":
        form = request.form.copy()
        form["service_user_id"] = str(person.id)
        send = request.form.get("action") != "draft"
        data, errors, values = load_form(schemas.ReferralIn(), form, ("data_categories",))
        if data is not None:
            try:
                with unit_of_work():
                    referral = services.create_referral(actor, data)
                    if send:
                        services.send_referral(actor, referral)
            except Invalid as exc:
                errors = _missing_errors(exc, agency.name)
            else:
                if send:
                    flash(
                        f"Referral {referral.reference} has been sent to {agency.name}. They are asked to "
                        f"acknowledge it by {referral.acknowledge_by:%-d %B %Y}."
                    )
                else:
                    flash(f"Referral {referral.reference} is saved as a draft. Nothing has been shared yet.")
                return redirect(url_for("referrals.referral", referral_id=referral.id))
    coverage = sharing.coverage(person.id, agency.id)
    rows = [(c, basis.describe() if (basis := coverage.covering(FORM_PURPOSE, c.value)) else "") for c in DataCategory]
    return render_template(
        "referrals/send.html",
        title=f"Refer {person.full_name} to {agency.name}",
        errors=errors,
        values=values,
        person=person,
        agency=agency,
        coverage=coverage,
        rows=rows,
        covers_referrals=any(basis for _c, basis in rows),
        contacts=[c for c in directory.contacts_of(actor, agency) if c.is_active],
        urgencies=URGENCY_OPTIONS,
    ), (422 if errors else 200)


# One referral ------------------------------------------------------------------------------


def _referral_page(
    actor: Actor,
    referral_id: int,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    referral = queries.get_referral(actor, referral_id)
    with unit_of_work():  # a partner's view of her details is itself a disclosure, and is logged
        details = services.open_referral(actor, referral)
        services.mark_referral_seen(actor, referral)  # her notifications about it are read now
    referral = queries.get_referral(actor, referral_id)
    events = queries.events_of(referral)
    messages = queries.messages_of(referral)
    names = queries.user_names({e.actor_id for e in events if e.actor_kind == "user" and e.actor_id is not None})
    side = policies.side_of(actor, referral)
    return render_template(
        "referrals/referral.html",
        title=f"Referral {referral.reference}",
        errors=errors or {},
        values=values or {},
        referral=referral,
        details=details,
        person=referral.service_user if details.visible else None,
        identity=details.identity,
        purpose_label=Purpose(referral.purpose).label if referral.purpose != FORM_PURPOSE else None,
        events=events,
        messages=messages,
        names=names,
        actions=policies.available_actions(actor, referral),
        labels=ACTION_LABELS,
        with_input=WITH_INPUT,
        event_labels=EVENT_LABELS,
        staff=actor.is_staff,
        addressed_to_you=referral.recipient_contact is not None
        and referral.recipient_contact.user_id == actor.actor_id,
        can_message=policies.can_post_message(actor, referral),
        side=side.value if side else None,
        sender_contact=directory.work_contact_of(referral.sender_user_id),
        host=directory.host_agency(),
        today=today(),
    ), status


@bp.get("/referrals/<referral_id>")
@signed_in()
def referral(referral_id: str) -> Any:
    return _referral_page(current_actor(), path_id(referral_id))


def _action_page(
    referral: Referral, action: str, errors: dict[str, list[str]] | None = None, values: Any = None, status: int = 200
) -> Any:
    return render_template(
        "referrals/action.html",
        title=f"{ACTION_LABELS[action]}: referral {referral.reference}",
        errors=errors or {},
        values=values or {},
        referral=referral,
        action=action,
        field=WITH_INPUT.get(action),
        label=ACTION_LABELS[action],
    ), status


@bp.route("/referrals/<referral_id>/actions/<action>", methods=["GET", "POST"])
@signed_in()
def act(referral_id: str, action: str) -> Any:
    actor = current_actor()
    number = path_id(referral_id)
    referral = queries.get_referral(actor, number)
    if action not in ACTIONS:
        abort(404)
    step = ACTIONS[action]
    if request.method == "GET":
        if action not in policies.available_actions(actor, referral) or step.asks_for is None:
            return redirect(url_for("referrals.referral", referral_id=number))
        return _action_page(referral, action)
    data, errors, values = load_form(step.schema(), request.form)
    if data is None:
        return _action_page(referral, action, errors, values, 422)
    try:
        with unit_of_work():
            step.run(actor, referral, data)
    except Invalid as exc:
        if step.asks_for:
            return _action_page(
                queries.get_referral(actor, number), action, exc.errors or {"_schema": [exc.detail]}, values, 422
            )
        return _referral_page(actor, number, _missing_errors(exc, referral.agency.name, referral.purpose), status=422)
    except Conflict as exc:
        return _referral_page(actor, number, {"_schema": [exc.detail]}, status=409)
    if action == "send":
        flash(f"Referral {referral.reference} has been sent to {referral.agency.name}.")
    else:
        flash(f"Referral {referral.reference} is now {referral.status.label.lower()}.")
    return redirect(url_for("referrals.referral", referral_id=number))


@bp.post("/referrals/<referral_id>/messages")
@signed_in()
def post_message(referral_id: str) -> Response | Any:
    actor = current_actor()
    number = path_id(referral_id)
    referral = queries.get_referral(actor, number)
    data, errors, values = load_form(schemas.MessageIn(), request.form)
    if data is not None:
        try:
            with unit_of_work():
                services.post_message(actor, referral, data["body"])
        except Invalid as exc:
            errors = exc.errors or {"_schema": [exc.detail]}
    if errors:
        return _referral_page(actor, number, errors, values, 422)
    flash("Your message has been posted.")
    return redirect(url_for("referrals.referral", referral_id=number) + "#messages")
