"""Release-planning pages: thin — parse, call the service, render.

- Custody, plans, "who knows" and her release day card are for our staff
  (``signed_in(staff=True)``: anyone else is refused before anything is read).
- A partner sees the releases shared with their agency (``/releases``) and one
  at a time (``/releases/<id>``), only while her consent covers release
  planning with it; anything else answers 404, as if it did not exist. Every
  release a partner is shown is logged as a disclosure, with ``identity``
  among its categories only where her name was shown.
- The calculator works out a day of release for anyone signed in and stores
  nothing.
- The release day card is for her to carry: her first name only, no
  reference, no pathway, and none of the words that would tell a stranger
  where she has been (:data:`NOT_ON_HER_CARD`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from marshmallow import fields, validate

from agencies import queries as directory
from agencies.models import Contact
from consent import queries as consent_queries
from consent import sharing
from consent.models import DataCategory, DisclosureKind, ServiceUser
from hub.db import today, unit_of_work
from hub.permissions import Actor, Conflict, Invalid
from hub.web.forms import load_form, path_id, submit
from hub.web.guards import current_actor, signed_in
from referrals.models import Urgency
from releases import catalogue, dates, policies, queries, schemas, services
from releases.models import CustodyEpisode, ItemStatus, NightOne, Pathway, PlanItem, Responsible

bp = Blueprint("releases", __name__, template_folder="templates")

NOT_ON_HER_CARD = re.compile(
    r"prison|offen[cs]e|offender|drug|alcohol|abuse|recall|substance|domestic|sexual|custody|sentence|"
    r"overdose|naloxone|violen|\bidva\b|\bisva\b",
    re.IGNORECASE,
)
# Her card says what each catalogue item means for her, in her words (the plan's titles are about her).
HER_WORDS = {
    "meet": "Someone meets you as you leave, at the gate or at the station",
    "release_pack": "Your pack for the day: a phone, clothes and toiletries",
    "travel": "Getting to where you will stay",
    "night_one": "Somewhere safe to stay on your first night",
    "medication": "Your medicine for the first days",
    "script": "Your prescription, ready on the day",
    "benefits": "Your benefits claim, ready for the day",
    "probation_appointment": "Your first appointment with your probation practitioner",
    "gp_appointment": "An appointment with your doctor (GP)",
    "treatment": "Your first appointment with your support service",
    "mental_health": "Your first appointment for support with how you are feeling",
}
ON_THE_DAY = {"meet", "release_pack", "travel", "night_one", "medication", "script", "benefits"}
APPOINTMENTS = {"probation_appointment", "gp_appointment", "treatment", "mental_health"}
_KEY_OF_TITLE = {need.title: need.key for need in catalogue.CATALOGUE}
_NOT_HAPPENING = {ItemStatus.NOT_NEEDED, ItemStatus.SUPPORT_DECLINED}
URGENCY_OPTIONS = [(Urgency.ROUTINE.value, "Routine"),
                   (Urgency.URGENT.value, "Urgent", "They are asked to acknowledge it sooner.")]  # fmt: skip


class CustodyForm(schemas.CustodyIn):
    needs = fields.List(fields.String(validate=validate.OneOf(list(catalogue.BY_KEY), error="Choose from the list")))


class StatusForm(ma.Schema):
    status = schemas._enum(ItemStatus, "Choose a status from the list", required=True,
                           error_messages={"required": "Choose a status"})  # fmt: skip


class NightOneForm(ma.Schema):
    night_one = schemas._enum(NightOne, "Choose where she stayed on her first night", required=True,
                              error_messages={"required": "Choose where she stayed on her first night"})  # fmt: skip


@bp.app_template_filter("upper_first")
def upper_first(text: str) -> str:
    """A phrase as the start of a sentence: Jinja's ``capitalize`` would lower the rest ("wednesday 3 march")."""
    return text[:1].upper() + text[1:]


def _errors(exc: Invalid) -> dict[str, list[str]]:
    return exc.errors or {"_schema": [exc.detail]}


def _long(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _form_lists() -> dict[str, Any]:
    """The choices of the custody forms."""
    return {
        "prisons": [(a.id, a.name) for a in queries.prisons()],
        "practitioners": [(c.id, f"{c.name}, {c.agency.name}") for c in queries.probation_practitioners()],
        "custody_types": [(t.value, t.label) for t in dates.CustodyType],
        "sentence_kinds": [(k.value, k.label) for k in dates.SentenceKind],
        "release_types": [(t.value, t.label) for t in dates.ReleaseType],
    }


# The board, and a partner's releases ---------------------------------------------------------------


@bp.get("/releases")
@signed_in()
def board() -> Any:
    """Our staff: the releases of the next 8 weeks, red, amber or green. A partner: those shared with them."""
    actor = current_actor()
    if not actor.is_staff:
        return _partner_releases(actor)
    found = queries.board(actor)
    return render_template(
        "releases/board.html",
        title="Releases in the next 8 weeks",
        board=found,
        days={row.custody.id: services.release_day_of(row.custody) for row in found.rows},
        prisons=queries.agency_names(row.custody.prison_agency_id for row in found.rows),
        mine=queries.overdue_items_of(actor),
        today=today(),
    )


def _partner_releases(actor: Actor) -> Any:
    with unit_of_work():  # each release listed is a disclosure to the partner's agency, logged with the page
        shared = queries.partner_releases(actor)
        named = {c.id for c, basis in shared if queries.shares_identity(basis)}
        sharing.disclose_many(actor, [
            (basis, {"service_user_id": c.service_user_id, "agency_id": actor.agency_id,
                     "kind": DisclosureKind.VIEWED, "categories": _shown(c.id in named),
                     "purpose": services.PURPOSE, "context": "release_list", "context_id": c.id})
            for c, basis in shared
        ])  # fmt: skip
        assert actor.agency_id is not None  # a partner (policies.can_see_partner_releases)
        people = queries.people(c.service_user_id for c, _basis in shared if c.id in named)
        return render_template(
            "releases/partner_list.html",
            title="Releases shared with your agency",
            shared=[c for c, _basis in shared],
            days={c.id: services.release_day_of(c) for c, _basis in shared},
            names={c.id: people[c.service_user_id].full_name for c, _basis in shared if c.id in named},
            items=queries.agency_items(actor.agency_id, [c.id for c, _basis in shared]),
            today=today(),
        )


def _shown(identity: bool) -> set[str]:
    return set(services.NOTICE_CATEGORIES) | ({DataCategory.IDENTITY.value} if identity else set())


@bp.get("/releases/calculator")
@signed_in()
def calculator() -> Any:
    """Work out a day of release from the date the prison or probation gave; stores nothing."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    day = None
    if request.args:
        data, errors, values = load_form(schemas.ReleaseDateArgs(), request.args)
        if data is not None:
            nominal = data.pop("nominal_on")
            try:
                day = dates.release_day(nominal, **data)
            except ValueError:
                errors = {"sentenced_on": ["The sentence date must be on or before the release date"]}
    return render_template(
        "releases/calculator.html", title="Work out a day of release", errors=errors, values=values, day=day,
        **_form_lists(),
    ), (422 if errors else 200)  # fmt: skip


@bp.get("/releases/<custody_id>")
@signed_in()
def release(custody_id: str) -> Any:
    """A partner's view of one release shared with their agency (our staff see her custody page)."""
    actor = current_actor()
    number = path_id(custody_id)
    if actor.is_staff:
        return redirect(url_for("releases.custody", custody_id=number))
    custody, basis = queries.partner_release(actor, number)
    agency_id = actor.agency_id
    assert agency_id is not None  # a partner_basis needs an agency
    identity = queries.shares_identity(basis)
    with unit_of_work():
        sharing.disclose(
            actor, basis, service_user_id=custody.service_user_id, agency_id=agency_id,
            kind=DisclosureKind.VIEWED, categories=_shown(identity), purpose=services.PURPOSE, context="release",
            context_id=custody.id,
        )  # fmt: skip
        person = queries.people([custody.service_user_id])[custody.service_user_id]
        key_worker, contact, host = queries.key_worker_contact(person)
        return render_template(
            "releases/partner_release.html",
            title=f"Release {custody.reference}",
            custody=custody,
            name=person.full_name if identity else None,
            day=services.release_day_of(custody),
            items=queries.agency_items(agency_id, [custody.id])[custody.id],
            key_worker=key_worker,
            contact=contact,
            host=host,
            today=today(),
        )


# Her custody ----------------------------------------------------------------------------------------


def service_user_section(person: ServiceUser, actor: Actor | None = None, **_kw: Any) -> Markup | None:
    """Her custody episodes, for her page (our staff only)."""
    if actor is None or not policies.can_view_custody(actor):
        return None
    episodes = queries.custody_of(actor, person.id)
    return Markup(  # noqa: S704 - a rendered, autoescaped template
        render_template(
            "releases/_service_user_custody.html",
            person=person,
            episodes=episodes,
            days={c.id: services.release_day_of(c) for c in episodes},
        )
    )


@bp.route("/service-users/<service_user_id>/custody/new", methods=["GET", "POST"])
@signed_in(staff=True)
def record_custody(service_user_id: str) -> Any:
    actor = current_actor()
    person = consent_queries.get_service_user(actor, path_id(service_user_id))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"custody_type": "sentenced", "needs": [n.key for n in catalogue.CATALOGUE if n.usual]}
    if request.method == "POST":
        custody, errors, values = submit(
            CustodyForm(), request.form, lambda d: services.record_custody(actor, person, d), ("needs",)
        )
        values.setdefault("needs", [])
        if custody is not None:
            flash(f"Custody {custody.reference} is recorded: release {services.release_day_of(custody).window_text}.")
            return redirect(url_for("releases.custody", custody_id=custody.id))
    return _custody_form(person, None, errors, values)


def _custody_form(person: ServiceUser, custody: CustodyEpisode | None, errors: dict[str, list[str]],
                  values: dict[str, Any]) -> Any:  # fmt: skip
    groups = [(p, [n for n in catalogue.CATALOGUE if n.pathway is p]) for p in Pathway]
    return render_template(
        "releases/custody_form.html",
        title="Change the release dates" if custody else "Record custody",
        person=person, custody=custody, errors=errors, values=values, needs=[g for g in groups if g[1]],
        **_form_lists(),
    ), (422 if errors else 200)  # fmt: skip


@bp.route("/custody/<custody_id>/edit", methods=["GET", "POST"])
@signed_in(staff=True)
def change_custody(custody_id: str) -> Any:
    actor = current_actor()
    custody = queries.get_custody(actor, path_id(custody_id))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        data, errors, values = load_form(schemas.CustodyIn(), request.form)
        if data is not None:
            # A field left blank on this form means "not known", not "unchanged".
            for name in ("sentence_kind", "sentenced_on", "term_days", "probation_contact_id", "date_told_by",
                         "date_told_on"):  # fmt: skip
                data.setdefault(name, None)
            try:
                with unit_of_work():
                    moved = services.change_custody(actor, custody, data)
            except Invalid as exc:
                errors = _errors(exc)
            else:
                custody = queries.get_custody(actor, custody.id)
                window = services.release_day_of(custody).window_text
                flash(f"The release is now {window}." + (" Every agency in her plan has been told." if moved else ""))
                return redirect(url_for("releases.custody", custody_id=custody.id))
    return _custody_form(custody.service_user, custody, errors, values)


@bp.get("/custody/<custody_id>")
@signed_in(staff=True)
def custody(custody_id: str) -> Any:
    return _custody_page(current_actor(), path_id(custody_id))


def _custody_page(actor: Actor, custody_id: int, errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    custody = queries.get_custody(actor, custody_id)
    items = queries.plan_items(custody)
    groups = [(p, [i for i in items if i.pathway is p]) for p in Pathway]
    return render_template(
        "releases/custody.html",
        title=f"Custody {custody.reference}",
        errors=errors or {},
        custody=custody,
        person=custody.service_user,
        day=services.release_day_of(custody),
        knows=queries.who_knows(actor, custody),
        groups=[g for g in groups if g[1]],
        referrals=queries.plan_referrals(items),
        statuses=[(s.value, s.label) for s in ItemStatus],
        can_change=policies.can_change_custody(actor, custody),
        can_plan=policies.can_change_plan(actor, custody),
        can_release=policies.can_record_release(actor, custody),
        can_after=policies.can_record_night_one(actor, custody),
        today=today(),
    ), status


@bp.route("/custody/<custody_id>/items/new", methods=["GET", "POST"])
@signed_in(staff=True)
def add_plan_item(custody_id: str) -> Any:
    actor = current_actor()
    custody = queries.get_custody(actor, path_id(custody_id))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"status": ItemStatus.NOT_STARTED.value}
    if request.method == "POST":
        item, errors, values = submit(
            schemas.PlanItemIn(), request.form, lambda d: services.add_plan_item(actor, custody, d)
        )
        if item is not None:
            flash(f"“{item.title}” is added to her plan.")
            return redirect(url_for("releases.custody", custody_id=custody.id) + f"#item-{item.id}")
    return render_template(
        "releases/item_form.html", title="Add an item to her plan", custody=custody, errors=errors, values=values,
        pathways=[(p.value, p.label) for p in Pathway], statuses=[(s.value, s.label) for s in ItemStatus],
        responsible=[(r.value, r.label) for r in Responsible],
        agencies=[(a.id, a.name) for a in directory.partner_agencies()],
        contacts=[(c.id, f"{c.name}, {c.agency.name}") for c in queries.partner_contacts()],
        staff=[(u.id, u.name) for u in directory.active_staff()],
    ), (422 if errors else 200)  # fmt: skip


@bp.post("/plan-items/<item_id>/status")
@signed_in(staff=True)
def change_item_status(item_id: str) -> Any:
    actor = current_actor()
    item = queries.get_plan_item(actor, path_id(item_id))
    custody_id = item.custody_id
    done, errors, _values = submit(StatusForm(), request.form, lambda d: services.change_plan_item(actor, item, d))
    if done is None:
        return _custody_page(actor, custody_id, {f"status-{item.id}": errors.get("status") or _flat(errors)}, 422)
    flash(f"“{done.title}” is now {done.status.label.lower()}.")
    return redirect(url_for("releases.custody", custody_id=custody_id) + f"#item-{done.id}")


def _flat(errors: dict[str, list[str]]) -> list[str]:
    return [m for messages in errors.values() for m in messages]


@bp.route("/plan-items/<item_id>/refer", methods=["GET", "POST"])
@signed_in(staff=True)
def refer_plan_item(item_id: str) -> Any:
    """Step 1 chooses the agency (the item's, if it has one); step 2 says what her consent covers there
    for release planning, then sends the referral through the consent gate."""
    actor = current_actor()
    item = queries.get_plan_item(actor, path_id(item_id))
    custody = queries.get_custody(actor, item.custody_id)
    agencies = directory.partner_agencies()
    given = request.values.get("agency_id")  # "" from "Choose a different agency": back to step 1
    chosen = given if given is not None else (str(item.agency_id) if item.agency_id else None)
    agency = next((a for a in agencies if str(a.id) == chosen), None)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"urgency": Urgency.ROUTINE.value, "data_categories": [DataCategory.IDENTITY.value,
                              DataCategory.CRIMINAL_JUSTICE.value], "reason": item.title}  # fmt: skip
    if agency is not None and request.method == "POST":
        data, errors, values = load_form(schemas.PlanReferralIn(), request.form, ("data_categories",))
        if data is not None:
            try:
                with unit_of_work():
                    referral = services.refer_plan_item(actor, item, data)
            except sharing.NotCovered as exc:
                errors = {"_schema": [exc.detail], **exc.missing.describe(agency.name, services.PURPOSE)}
            except (Invalid, Conflict) as exc:
                errors = exc.errors if isinstance(exc, Invalid) and exc.errors else {"_schema": [exc.detail]}
            else:
                flash(f"Referral {referral.reference} has been sent to {agency.name}, needed by "
                      f"{referral.needed_by:%-d %B %Y}." if referral.needed_by else
                      f"Referral {referral.reference} has been sent to {agency.name}.")  # fmt: skip
                return redirect(url_for("releases.custody", custody_id=custody.id) + f"#item-{item.id}")
    elif agency is None and given:
        errors = {"agency_id": ["Choose the agency to refer her to"]}
    coverage = sharing.coverage(custody.service_user_id, agency.id) if agency else None
    rows = [(c, b.describe() if coverage and (b := coverage.covering(services.PURPOSE, c.value)) else "")
            for c in DataCategory]  # fmt: skip
    contacts = queries.partner_contacts(agency.id) if agency else []
    return render_template(
        "releases/refer.html", title=f"Refer “{item.title}” to a partner", item=item, custody=custody,
        agency=agency, agencies=agencies, categories=rows, covers=any(b for _c, b in rows), errors=errors,
        values=values, contacts=[(c.id, c.name + (f", {c.role}" if c.role else "")) for c in contacts],
        urgencies=URGENCY_OPTIONS,
    ), (422 if errors else 200)  # fmt: skip


# Release, first night, recall -------------------------------------------------------------------------


def _release(actor: Actor, custody: CustodyEpisode, data: dict[str, Any]) -> CustodyEpisode:
    return services.record_release(actor, custody, data["released_on"], data.get("night_one"))


def _night_one(actor: Actor, custody: CustodyEpisode, data: dict[str, Any]) -> CustodyEpisode:
    return services.record_night_one(actor, custody, data["night_one"])


@dataclass(frozen=True)
class _Step:
    title: str
    schema: type[ma.Schema]
    allowed: Callable[[Actor, CustodyEpisode], bool]
    run: Callable[[Actor, CustodyEpisode, dict[str, Any]], CustodyEpisode]
    done: str


STEPS = {
    "release": _Step("Record her release", schemas.ReleasedIn, policies.can_record_release, _release,
                     "Her release on {released_on} is recorded."),
    "night-one": _Step("Record where she stayed on her first night", NightOneForm, policies.can_record_night_one,
                       _night_one, "Where she stayed on her first night is recorded."),
    "recall": _Step("Record a recall", schemas.RecallIn, policies.can_record_recall, services.record_recall,
                    "The recall is recorded: her plan is kept and counts back from the new date."),
}  # fmt: skip


@bp.route("/custody/<custody_id>/<any(release, 'night-one', recall):step>", methods=["GET", "POST"])
@signed_in(staff=True)
def record_step(custody_id: str, step: str) -> Any:
    actor = current_actor()
    custody = queries.get_custody(actor, path_id(custody_id))
    spec = STEPS[step]
    if not spec.allowed(actor, custody):
        return _custody_page(actor, custody.id, {"_schema": ["This cannot be recorded for her now."]}, 409)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        done, errors, values = submit(spec.schema(), request.form, lambda d: spec.run(actor, custody, d))
        if done is not None:
            released = f"{done.released_on:%-d %B %Y}" if done.released_on else ""
            flash(spec.done.format(released_on=released))
            return redirect(url_for("releases.custody", custody_id=custody.id))
    return render_template(
        "releases/step_form.html", title=spec.title, step=step, custody=custody, errors=errors, values=values,
        night_ones=[(n.value, n.label) for n in NightOne],
        release_types=[(t.value, t.label) for t in dates.ReleaseType],
    ), (422 if errors else 200)  # fmt: skip


# Her release day card ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardLine:
    what: str
    who: str
    phone: str


def _for_her(item: PlanItem) -> str:
    key = _KEY_OF_TITLE.get(item.title)
    if key in HER_WORDS:
        return HER_WORDS[key]
    return "Something arranged for you" if NOT_ON_HER_CARD.search(item.title) else item.title


def _current(contact: Contact | None) -> Contact | None:
    return contact if contact is None or contact.is_active else directory.current_holder(contact)


def _who(
    item: PlanItem, custody: CustodyEpisode, key_worker: tuple[str, str], charity: tuple[str, str]
) -> tuple[str, str]:
    """Who does it for her, and their phone number."""
    holder = _current(item.contact)
    if holder is None and item.responsible is Responsible.PROBATION:
        holder = _current(custody.probation_contact)
    if holder is not None:
        return f"{holder.name}, {holder.agency.name}", holder.phone
    if item.owner is not None:
        return f"{item.owner.name}, {charity[0]}", charity[1]
    if item.responsible is Responsible.CHARITY:
        return key_worker
    if item.agency is not None:
        return item.agency.name, item.agency.phone
    return "Arranged before you leave", ""


def _section(item: PlanItem) -> str | None:
    """Where an item goes on her card: on the day, her first appointments, or not at all."""
    key = _KEY_OF_TITLE.get(item.title)
    if key in APPOINTMENTS or (key is None and "appointment" in item.title.lower()):
        return "appointments"
    if key in ON_THE_DAY or (key is None and item.pathway is Pathway.DAY_OF_RELEASE):
        return "on_the_day"
    return None


@bp.get("/custody/<custody_id>/card")
@signed_in(staff=True)
def card(custody_id: str) -> Any:
    """A one-page card for her to keep: the day, who meets her, who to call, her first appointments."""
    actor = current_actor()
    custody = queries.get_custody(actor, path_id(custody_id))
    person = custody.service_user
    items = [i for i in queries.plan_items(custody) if i.status not in _NOT_HAPPENING]
    worker, work_contact, host = queries.key_worker_contact(person)
    charity = (host.name, host.phone) if host else ("", "")
    worker_phone = (work_contact.phone if work_contact else "") or charity[1]
    key_worker = (f"{worker}, your key worker at {charity[0]}" if worker else charity[0], worker_phone)
    sections: dict[str, list[CardLine]] = {"on_the_day": [], "appointments": []}
    for item in items:
        if (section := _section(item)) is not None:
            sections[section].append(CardLine(_for_her(item), *_who(item, custody, key_worker, charity)))
    people = [(worker or charity[0], "Your key worker" if worker else "", work_contact.email if work_contact else "",
               worker_phone)]  # fmt: skip
    for contact, is_probation in queries.card_contacts(custody, items):
        people.append((contact.name, "Your probation practitioner" if is_probation else contact.agency.name,
                       contact.email, contact.phone))  # fmt: skip
    return render_template(
        "releases/card.html",
        title="Release day card",
        custody=custody,
        first_name=person.given_name,
        when=_her_window(services.release_day_of(custody)),
        on_the_day=sections["on_the_day"],
        appointments=sections["appointments"],
        people=people,
    )


def _her_window(day: dates.ReleaseDay) -> str:
    """The window in her words: "You could be released on Wednesday 3 March; at the latest Friday 5 March"."""
    if day.plan_on == day.statutory_on:
        return f"You will be released on {_long(day.statutory_on)}."
    return f"You could be released on {_long(day.plan_on)}; at the latest {_long(day.statutory_on)}."
