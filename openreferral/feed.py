"""The feed's records, built from the directory and the rota, as the Open Referral UK 3.0 profile has them.

What it may publish, and nothing else:
- a service whose ``publish`` is true (a partner's only by the partner's own choice: :mod:`agencies.policies`),
  with its agency as the ``organization``;
- for our service marked as the drop-in, each running rota series as its location (the venue) and its weekly
  schedule (``freq: WEEKLY``, ``byday: WE``, opening and closing times);
- ``assured_date`` from when someone last confirmed the service, ``last_modified`` from the audit log.

Never a named member of staff (no contacts, no people's emails: the service's own inbox only) and never a
woman: nothing here reads a table that holds her. Each page costs the same statements at any size.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from agencies.models import Agency, AgencyKind, AgencyService
from hub.audit import AuditEvent
from hub.db import db, today
from rota.models import RotaSeries

VERSION = "HSDS-UK-3.0"
PROFILE = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"
OPENAPI_URL = "https://openreferraluk.org/specifications/3.0/openapi.json"
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    def as_json(self) -> dict[str, Any]:
        pages = max(1, -(-self.total // self.per_page))
        return {"total_items": self.total, "total_pages": pages, "page_number": self.page,
                "size": len(self.items), "first_page": self.page == 1, "last_page": self.page >= pages,
                "empty": not self.items, "contents": self.items}  # fmt: skip


def _stamp(moment: dt.datetime) -> str:
    """Milliseconds, UTC, as the profile asks of ``last_modified``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _child_id(parent: str, what: str) -> str:
    """A stable UUID for a record the hub keeps no id of its own for (a schedule, a location)."""
    return str(uuid.uuid5(uuid.UUID(parent), what))


def _published() -> sa.Select[Any]:
    return (
        sa.select(AgencyService, Agency)
        .join(Agency, Agency.id == AgencyService.agency_id)
        .where(AgencyService.publish.is_(True))
    )


def _filtered(query: sa.Select[Any], search: str | None, organization_id: str | None) -> sa.Select[Any]:
    if search:
        text = search.lower()
        name, description = sa.func.lower(AgencyService.name), sa.func.lower(AgencyService.description)
        query = query.where(sa.or_(name.contains(text, autoescape=True), description.contains(text, autoescape=True)))
    if organization_id:
        query = query.where(Agency.public_id == organization_id)
    return query


def _last_changes(service_ids: list[int]) -> dict[int, dt.datetime]:
    """When each service last changed, by the audit log (one statement, on its object index)."""
    if not service_ids:
        return {}
    rows = db.session.execute(
        sa.select(AuditEvent.object_id, sa.func.max(AuditEvent.occurred_at))
        .where(AuditEvent.object_type == "agency_service", AuditEvent.object_id.in_(service_ids))
        .group_by(AuditEvent.object_id)
    )
    return {object_id: moment for object_id, moment in rows.tuples() if object_id is not None}


def _organization(agency: Agency) -> dict[str, Any]:
    record: dict[str, Any] = {"id": agency.public_id, "name": agency.name,
                              "description": agency.services or agency.name}  # fmt: skip
    if agency.email:
        record["email"] = agency.email
    if agency.website:
        record["website"] = agency.website
    return record


def _flat(service: AgencyService, agency: Agency, changed: dt.datetime | None) -> dict[str, Any]:
    record: dict[str, Any] = {"id": service.public_id, "organization_id": agency.public_id, "name": service.name,
                              "status": service.status.oruk}  # fmt: skip
    for key in ("description", "url", "email"):
        if getattr(service, key):
            record[key] = getattr(service, key)
    if service.last_verified_on is not None:
        record["assured_date"] = service.last_verified_on.isoformat()
    record["last_modified"] = _stamp(max(filter(None, (changed, service.updated_at))))
    return record


def _drop_in_parts(service: AgencyService, series: list[RotaSeries]) -> tuple[list[Any], list[Any]]:
    """The drop-in's venues and weekly times, from the rota series still running."""
    places, times = [], []
    for one in series:
        location_id = _child_id(service.public_id, f"location:{one.id}")
        at_location = _child_id(service.public_id, f"service_at_location:{one.id}")
        places.append({"id": at_location, "service_id": service.public_id, "location_id": location_id,
                       "location": {"id": location_id, "location_type": "physical", "name": one.venue,
                                    "description": f"Where {one.name} meets", "addresses": []}})  # fmt: skip
        opens, closes = one.starts_at.strftime("%H:%M"), one.ends_at.strftime("%H:%M")
        schedule: dict[str, Any] = {
            "id": _child_id(service.public_id, f"schedule:{one.id}"), "service_id": service.public_id,
            "service_at_location_id": at_location, "freq": "WEEKLY", "interval": 1, "byday": BYDAY[one.weekday],
            "opens_at": opens, "closes_at": closes, "valid_from": one.starts_on.isoformat(),
            "dtstart": one.starts_on.isoformat(), "attending_type": "in_person",
            "description": f"Every {DAY_NAMES[one.weekday]}, {opens} to {closes}",
        }  # fmt: skip
        if one.ends_on is not None:
            schedule["valid_to"] = one.ends_on.isoformat()
        times.append(schedule)
    return places, times


def _running_series() -> list[RotaSeries]:
    running = sa.or_(RotaSeries.ends_on.is_(None), RotaSeries.ends_on >= today())
    return list(db.session.scalars(sa.select(RotaSeries).where(running).order_by(RotaSeries.id)))


def services_page(page: int, per_page: int, search: str | None = None, organization_id: str | None = None) -> Page:
    """One page of the published services, one-to-one fields only (as the profile lists them). Three statements."""
    query = _filtered(_published(), search, organization_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(AgencyService.name, AgencyService.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    changed = _last_changes([service.id for service, _agency in rows])
    return Page([_flat(service, agency, changed.get(service.id)) | {"organization": _organization(agency)}
                 for service, agency in rows], total, page, per_page)  # fmt: skip


def service(public_id: str) -> dict[str, Any] | None:
    """One published service, fully nested; None when there is no such published service."""
    row = db.session.execute(_published().where(AgencyService.public_id == public_id)).first()
    if row is None:
        return None
    found, agency = row
    record = _flat(found, agency, _last_changes([found.id]).get(found.id))
    places, times = _drop_in_parts(found, _running_series()) if found.drop_in and agency.kind is AgencyKind.HOST \
        else ([], [])  # fmt: skip
    record |= {"organization": _organization(agency), "service_at_locations": places, "schedules": times,
               "contacts": [], "languages": [], "service_areas": [], "funding": [], "cost_options": [],
               "attributes": []}  # fmt: skip
    return record


def details() -> dict[str, str]:
    return {"version": VERSION, "profile": PROFILE, "openapi_url": OPENAPI_URL}
