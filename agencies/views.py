"""HTML pages of the directory: thin — parse, call the service, render."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from agencies import policies, queries, schemas, services
from agencies.models import Agency, AgencyKind, AgencyService, Channel, InteractionKind, ServiceStatus
from hub import work
from hub.db import MAX_ID, today, unit_of_work
from hub.permissions import MANAGERS, Conflict, HubError, Invalid, Role
from hub.web.forms import load_form
from hub.web.guards import current_actor, signed_in

bp = Blueprint("agencies", __name__, template_folder="templates")
PER_PAGE = 25


def _id_or_none(value: str | None) -> int | None:
    """An id written in ASCII digits that PostgreSQL can hold, else None.

    ``str.isdigit`` alone lets through "²" (which ``int`` refuses) and "١٢"
    (which it reads as 12).
    """
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > MAX_ID:
        return None
    return int(value)


def _int_or_404(value: str | None) -> int:
    number = _id_or_none(value)
    if number is None:
        abort(404)
    return number


def _form_page(template: str, errors: dict[str, list[str]], status: int = 200, **context: Any) -> Any:
    return render_template(template, errors=errors, **context), status


def _save(
    schema: Any, action: Any, list_fields: tuple[str, ...] = ()
) -> tuple[Any, dict[str, list[str]], dict[str, Any]]:
    """Load the form and run the service in one unit of work; gather any refusal as form errors."""
    data, errors, raw = load_form(schema, request.form, list_fields)
    if data is None:
        return None, errors, raw
    try:
        with unit_of_work():
            return action(data), {}, raw
    except Invalid as exc:
        return None, exc.errors or {"_schema": [exc.detail]}, raw


_NULLABLE_SUFFIXES = ("_id", "_on", "email", "website", "preferred_channel", "_days")


def _patch(schema: Any, fields: frozenset[str], action: Any) -> tuple[Any, dict[str, list[str]], dict[str, Any]]:
    """Like :func:`_save` for edit forms, where an emptied field means "clear it".

    The cleared values go through the schema too, so a field that must have a
    value (a name, a kind, yes or no) cannot be emptied.
    """
    blanks = {k for k in request.form if k in fields and request.form[k].strip() == ""}

    def _with_blanks(data: dict[str, Any]) -> Any:
        cleared = {name: None if name.endswith(_NULLABLE_SUFFIXES) else "" for name in blanks}
        try:
            data.update(schema.load(cleared, partial=True))
        except ma.ValidationError as exc:
            raise Invalid(errors={name: ["This cannot be left blank"] for name in exc.messages}) from exc
        return action(data)

    return _save(schema, _with_blanks)


@bp.get("/directory")
@signed_in()
def directory() -> Any:
    actor = current_actor()
    q = request.args.get("q", "").strip()[:100] or None
    kind_value = request.args.get("kind") or None
    kind = AgencyKind(kind_value) if kind_value in AgencyKind._value2member_map_ else None
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100000))
    result = queries.directory(actor, q=q, kind=kind, page=page, per_page=PER_PAGE, with_matches=True)
    return render_template(
        "agencies/directory.html",
        title="Partner directory",
        result=result,
        q=q or "",
        kind=kind,
        kinds=list(AgencyKind),
        can_create=policies.can_create_agency(actor),
    )


@bp.route("/agencies/new", methods=["GET", "POST"])
@signed_in(*MANAGERS)
def create_agency() -> Any:
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        agency, errors, values = _save(schemas.AgencyIn(), lambda d: services.create_agency(actor, d))
        if agency is not None:
            flash(f"{agency.name} has been added to the directory.")
            return redirect(url_for("agencies.agency", agency_id=agency.id))
    return _form_page(
        "agencies/agency_form.html",
        errors,
        422 if errors else 200,
        title="Add an agency",
        values=values,
        agency=None,
        fields=policies.MANAGER_AGENCY_FIELDS,
        kinds=list(AgencyKind),
        staff=queries.active_staff(),
        contacts=[],
    )


@bp.get("/agencies/<agency_id>")
@signed_in()
def agency(agency_id: str) -> Any:
    actor = current_actor()
    agency = queries.get_agency(actor, _int_or_404(agency_id))
    contacts = queries.contacts_of(actor, agency)
    return render_template(
        "agencies/agency.html",
        title=agency.name,
        agency=agency,
        contacts=contacts,
        log=queries.interactions(actor, agency=agency, limit=20),
        internal=policies.can_see_internal(actor),
        can_edit=policies.can_update_agency(actor, agency),
        can_add_contact=policies.can_add_contact(actor, agency),
        can_confirm=agency.roles_to_confirm is not None and policies.can_confirm_key_roles(actor, agency),
        show_key_changes=policies.can_see_leavers(actor, agency.id),  # the note names who left
        can_see_accounts=policies.can_see_agency_accounts(actor, agency.id),
        agency_services=queries.services_of(agency.id),
        can_add_service=policies.can_add_service(actor, agency),
    )


@bp.route("/agencies/<agency_id>/edit", methods=["GET", "POST"])
@signed_in()
def edit_agency(agency_id: str) -> Any:
    actor = current_actor()
    agency = queries.get_agency(actor, _int_or_404(agency_id))
    fields = policies.editable_agency_fields(actor, agency)
    if not fields:
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        _done, errors, values = _patch(
            schemas.AgencyPatch(), fields, lambda d: services.update_agency(actor, agency, d)
        )
        if not errors:
            flash("The agency's details have been saved.")
            return redirect(url_for("agencies.agency", agency_id=agency.id))
    return _form_page(
        "agencies/agency_form.html",
        errors,
        422 if errors else 200,
        title=f"Edit {agency.name}",
        values=values,
        agency=agency,
        fields=fields,
        kinds=list(AgencyKind),
        staff=queries.active_staff(),
        contacts=[c for c in queries.contacts_of(actor, agency) if c.is_active],
    )


def _service_form(
    agency: Agency, service: AgencyService | None, errors: dict[str, list[str]], values: dict[str, Any]
) -> Any:
    actor = current_actor()
    return _form_page(
        "agencies/service_form.html", errors, 422 if errors else 200,
        title=f"Edit {service.name}" if service else "Add a service", values=values, agency=agency, service=service,
        statuses=[(s.value, s.label) for s in ServiceStatus],
        can_publish=policies.may_publish(actor, agency) or bool(service and service.publish),
    )  # fmt: skip


@bp.route("/agencies/<agency_id>/services/new", methods=["GET", "POST"])
@signed_in()
def add_service(agency_id: str) -> Any:
    actor = current_actor()
    agency = queries.get_agency(actor, _int_or_404(agency_id))
    if not policies.can_add_service(actor, agency):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        service, errors, values = _save(schemas.ServiceIn(), lambda d: services.add_service(actor, agency, d))
        if service is not None:
            flash(f"{service.name} has been added.")
            return redirect(url_for("agencies.agency", agency_id=agency.id) + "#services")
    return _service_form(agency, None, errors, values)


@bp.route("/services/<service_id>/edit", methods=["GET", "POST"])
@signed_in()
def edit_service(service_id: str) -> Any:
    actor = current_actor()
    service = queries.get_service(actor, _int_or_404(service_id))
    if not policies.can_update_service(actor, service):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        _done, errors, values = _save(schemas.ServicePatch(), lambda d: services.update_service(actor, service, d))
        if not errors:
            flash(f"{service.name} has been saved.")
            return redirect(url_for("agencies.agency", agency_id=service.agency_id) + "#services")
    return _service_form(service.agency, service, errors, values)


@bp.post("/services/<service_id>/verify")
@signed_in()
def verify_service(service_id: str) -> Response:
    actor = current_actor()
    service = queries.get_service(actor, _int_or_404(service_id))
    if not policies.can_update_service(actor, service):
        abort(403)
    with unit_of_work():
        services.update_service(actor, service, {"verified": True})
    flash(f"{service.name}: confirmed as right today.")
    return redirect(url_for("agencies.agency", agency_id=service.agency_id) + "#services")


@bp.post("/agencies/<agency_id>/confirm-roles")
@signed_in()
def confirm_roles(agency_id: str) -> Response:
    actor = current_actor()
    agency = queries.get_agency(actor, _int_or_404(agency_id))
    with unit_of_work():
        services.confirm_key_roles(actor, agency)
    flash("The key contact and deputy are confirmed.")
    return redirect(url_for("agencies.agency", agency_id=agency.id))


@bp.route("/agencies/<agency_id>/contacts/new", methods=["GET", "POST"])
@signed_in()
def add_contact(agency_id: str) -> Any:
    actor = current_actor()
    agency = queries.get_agency(actor, _int_or_404(agency_id))
    if not policies.can_add_contact(actor, agency):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        contact, errors, values = _save(schemas.ContactIn(), lambda d: services.add_contact(actor, agency, d))
        if contact is not None:
            flash(f"{contact.name} has been added.")
            return redirect(url_for("agencies.contact", contact_id=contact.id))
    fields = policies.STAFF_CONTACT_FIELDS if actor.is_staff else policies.PARTNER_CONTACT_FIELDS
    return _form_page(
        "agencies/contact_form.html",
        errors,
        422 if errors else 200,
        title="Add a contact",
        values=values,
        agency=agency,
        contact=None,
        fields=fields,
        channels=list(Channel),
        staff=queries.active_staff(),
    )


@bp.get("/contacts/<contact_id>")
@signed_in()
def contact(contact_id: str) -> Any:
    actor = current_actor()
    contact = queries.get_contact(actor, _int_or_404(contact_id))
    predecessors = queries.predecessors_of(contact) if actor.is_staff or contact.agency_id == actor.agency_id else []
    history_ids = [contact.id] + [p.id for p in predecessors]
    account = queries.account_of(contact)
    return render_template(
        "agencies/contact.html",
        title=contact.name,
        contact=contact,
        predecessors=predecessors,
        internal=policies.can_see_internal(actor),
        log=queries.interactions(actor, contacts=history_ids),
        holder=queries.current_holder(contact) if not contact.is_active else None,
        can_edit=policies.can_update_contact(actor, contact) and contact.is_active,
        account=account if policies.can_see_agency_accounts(actor, contact.agency_id) else None,
        can_invite=(account is None or not account.is_active) and policies.can_invite_contact(actor, contact),
    )


@bp.route("/contacts/<contact_id>/edit", methods=["GET", "POST"])
@signed_in()
def edit_contact(contact_id: str) -> Any:
    actor = current_actor()
    contact = queries.get_contact(actor, _int_or_404(contact_id))
    fields = policies.editable_contact_fields(actor, contact)
    if not fields:
        abort(403)
    if not contact.is_active:
        flash(f"{contact.name} has left: their record is kept as it was.")
        return redirect(url_for("agencies.contact", contact_id=contact.id))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        _done, errors, values = _patch(
            schemas.ContactPatch(), fields, lambda d: services.update_contact(actor, contact, d)
        )
        if not errors:
            flash("The contact's details have been saved.")
            return redirect(url_for("agencies.contact", contact_id=contact.id))
    return _form_page(
        "agencies/contact_form.html",
        errors,
        422 if errors else 200,
        title=f"Edit {contact.name}",
        values=values,
        agency=contact.agency,
        contact=contact,
        fields=fields,
        channels=list(Channel),
        staff=queries.active_staff(),
    )


@bp.route("/contacts/<contact_id>/leave", methods=["GET", "POST"])
@signed_in()
def leave(contact_id: str) -> Any:
    actor = current_actor()
    contact = queries.get_contact(actor, _int_or_404(contact_id))
    if not policies.can_record_leaver(actor, contact):
        abort(403)
    if not contact.is_active:
        flash(f"{contact.name} has already left.")
        return redirect(url_for("agencies.contact", contact_id=contact.id))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":

        def _record(d: dict[str, Any]) -> Any:
            return (
                services.record_leaver(
                    actor,
                    contact,
                    left_on=d["left_on"],
                    successor_id=d.get("successor_id"),
                    handover_note=d.get("handover_note", ""),
                )
                or True
            )

        done, errors, values = _save(schemas.LeaveIn(), _record)
        if done:
            flash(f"{contact.name} is recorded as having left.")
            return redirect(url_for("agencies.agency", agency_id=contact.agency_id))
    others = [c for c in queries.contacts_of(actor, contact.agency) if c.is_active and c.id != contact.id]
    return _form_page(
        "agencies/leave_form.html",
        errors,
        422 if errors else 200,
        title=f"{contact.name} is leaving",
        values=values,
        contact=contact,
        others=others,
    )


@bp.route("/agencies/<agency_id>/log", methods=["GET", "POST"])
@signed_in(staff=True)
def log_interaction(agency_id: str) -> Any:
    actor = current_actor()
    agency = queries.get_agency(actor, _int_or_404(agency_id))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"contact_id": request.args.get("contact_id", type=int)}
    if request.method == "POST":
        entry, errors, values = _save(schemas.InteractionIn(), lambda d: services.log_interaction(actor, agency, d))
        if entry is not None:
            flash("The entry has been added to the log.")
            if entry.contact_id:
                return redirect(url_for("agencies.contact", contact_id=entry.contact_id))
            return redirect(url_for("agencies.agency", agency_id=agency.id))
    contacts = list(queries.contacts_of(actor, agency))
    return _form_page(
        "agencies/log_form.html",
        errors,
        422 if errors else 200,
        title="Add to the log",
        values=values,
        agency=agency,
        contacts=contacts,
        kinds=list(InteractionKind),
    )


# Accounts ---------------------------------------------------------------------


@bp.get("/agencies/<agency_id>/accounts")
@signed_in()
def accounts(agency_id: str) -> Any:
    """The hub accounts of an agency's people: its partner lead's (or an administrator's) to manage."""
    actor = current_actor()
    agency = queries.get_agency(actor, _int_or_404(agency_id))
    if not policies.can_see_agency_accounts(actor, agency.id):
        abort(404)
    page = queries.list_accounts(actor, agency_id=agency.id, per_page=200)
    open_accounts = {a.user.id for a in page.items if a.active}
    return render_template(
        "agencies/accounts.html",
        title=f"Hub accounts: {agency.name}",
        agency=agency,
        accounts=page.items,
        total=page.total,
        can_close={a.user.id for a in page.items if a.active and policies.can_close_account(actor, a.user)},
        can_invite=[
            c
            for c in queries.contacts_of(actor, agency)
            if c.user_id not in open_accounts and policies.can_invite_contact(actor, c)
        ],
    )


@bp.route("/contacts/<contact_id>/invite", methods=["GET", "POST"])
@signed_in()
def invite(contact_id: str) -> Any:
    """Give a contact a hub account: the one-time password is shown here, once."""
    actor = current_actor()
    contact = queries.get_contact(actor, _int_or_404(contact_id))
    if not policies.can_invite_contact(actor, contact):
        abort(403)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"role": Role.PARTNER.value}
    status = 200
    if request.method == "POST":
        data, errors, values = load_form(schemas.InviteIn(), request.form)
        if data is not None:
            try:
                with unit_of_work():
                    user, password = services.invite_contact(actor, contact, data["role"])
            except Invalid as exc:
                errors = exc.errors or {"_schema": [exc.detail]}
            except Conflict as exc:
                errors, status = {"_schema": [exc.detail]}, 409
            else:
                return render_template(
                    "agencies/invited.html", title="Account created", contact=contact, user=user, password=password
                )
        status = status if status != 200 else 422
    return render_template(
        "agencies/invite.html",
        title=f"Give {contact.name} a hub account",
        contact=contact,
        errors=errors,
        values=values,
        roles=[(Role.PARTNER.value, Role.PARTNER.label), (Role.PARTNER_LEAD.value, Role.PARTNER_LEAD.label)],
    ), status


@bp.post("/accounts/<user_id>/close")
@signed_in()
def close_account(user_id: str) -> Response:
    actor = current_actor()
    account = queries.get_account(actor, _int_or_404(user_id))
    with unit_of_work():
        services.close_account(actor, account.user)
    flash(f"{account.user.name}'s account is closed: every session they had has ended.")
    return redirect(url_for("agencies.accounts", agency_id=account.user.agency_id))


@bp.get("/health")
@signed_in(*MANAGERS)
def health() -> Any:
    actor = current_actor()
    report = queries.health_report(actor)
    leavers = {obj.relationship_owner if kind == "agency" else obj.known_by for kind, obj in report.owned_by_leavers}
    return render_template(
        "agencies/health.html",
        title="Partnership health",
        report=report,
        today=today(),
        # The leavers whose relationships this manager may hand over (an administrator's: admin only).
        can_hand_over={u.id for u in leavers if u is not None and policies.can_offboard_staff(actor, u)},
    )


@bp.get("/staff")
@signed_in(*MANAGERS)
def staff() -> Any:
    actor = current_actor()
    people = queries.staff_list()
    return render_template(
        "agencies/staff.html",
        title="Staff and handover",
        people=people,
        can_offboard={p.user.id for p in people if policies.can_offboard_staff(actor, p.user)},
    )


@bp.route("/staff/<user_id>/offboard", methods=["GET", "POST"])
@signed_in(*MANAGERS)
def offboard(user_id: str) -> Any:
    actor = current_actor()
    leaver = queries.get_staff(_int_or_404(user_id))
    if not policies.can_offboard_staff(actor, leaver):
        abort(403)
    items = work.held_by_staff(leaver.id)
    sections: dict[str, list[tuple[str, Any]]] = {}
    for item in items:
        sections.setdefault(item.section, []).append((item.field, item))
    others = [u for u in queries.active_staff() if u.id != leaver.id]
    errors: dict[str, list[str]] = {}
    if request.method == "POST":

        def _id(name: str) -> int | None:
            value = request.form.get(name, "").strip()
            number = _id_or_none(value)
            if value and number is None:
                errors[name] = ["Choose a current member of staff"]
            return number

        takers = {item.key: v for item in items if (v := _id(item.field)) is not None}
        default_user_id = _id("default_user_id")
        try:
            if errors:
                raise Invalid(errors=errors)
            with unit_of_work():
                handover = services.offboard_staff(
                    actor, leaver, takers, default_user_id, request.form.get("note", "")[: schemas.LONG]
                )
        except Invalid as exc:
            errors = exc.errors or {"_schema": [exc.detail]}
        except HubError as exc:
            errors = {"_schema": [exc.detail]}
        else:
            return redirect(url_for("agencies.handover", handover_id=handover.id))
    return _form_page(
        "agencies/offboard.html",
        errors,
        422 if errors else 200,
        title=f"Hand over {leaver.name}'s work",
        leaver=leaver,
        sections=sections,
        others=others,
        form=request.form,
        closed=not leaver.is_active,
    )


@bp.get("/handovers/<handover_id>")
@signed_in(*MANAGERS)
def handover(handover_id: str) -> Any:
    handover = queries.get_handover(_int_or_404(handover_id))
    return render_template(
        "agencies/handover.html",
        title=f"Handover pack: {handover.leaver.name}",
        handover=handover,
        pack=queries.handover_pack(handover),
        still_held=[] if handover.completed_at else work.held_by_staff(handover.leaver_id),
    )


@bp.post("/handovers/<handover_id>/complete")
@signed_in(*MANAGERS)
def complete_handover(handover_id: str) -> Response:
    actor = current_actor()
    handover = queries.get_handover(_int_or_404(handover_id))
    with unit_of_work():
        services.complete_offboarding(actor, handover)
    flash(f"{handover.leaver.name}'s account is disabled and every session they had has ended.")
    return redirect(url_for("agencies.handover", handover_id=handover.id))
