"""The directory's JSON API (``/api/v1``) for partner systems: thin views
over the same services and policies as the web pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.views import MethodView

from agencies import queries, schemas, services
from hub.db import existing_id, unit_of_work
from hub.extensions import ApiBlueprint, api
from hub.permissions import Scope
from hub.web.guards import current_actor, documented_scope

blp = ApiBlueprint(
    "agencies_api",
    __name__,
    url_prefix="/api/v1",
    description="The partner directory: agencies, their contacts, and hub accounts.",
    tag="Directory",
)
TOTAL = {"X-Total-Count": "X-Total-Count"}


def scoped(scope: Scope) -> Callable[[Any], Any]:
    """Guard a method with a bearer token holding `scope`, and document it."""
    return documented_scope(blp, scope.value)


@blp.route("/agencies")
class Agencies(MethodView):
    @scoped(Scope.DIRECTORY_READ)
    @blp.doc(operationId="listAgencies")
    @blp.arguments(schemas.AgencyListArgs, location="query")
    @blp.response(200, schemas.AgencyOut(many=True), headers=TOTAL, example=[schemas.AGENCY_EXAMPLE])
    def get(self, args: dict[str, Any]) -> Any:
        """List agencies (search with `q`, filter by `kind`); total in `X-Total-Count`."""
        page = queries.directory(
            current_actor(), q=args.get("q"), kind=args.get("kind"), page=args["page"], per_page=args["per_page"]
        )
        return [a for a, _n in page.rows], 200, {"X-Total-Count": str(page.total)}

    @scoped(Scope.DIRECTORY_WRITE)
    @blp.doc(operationId="createAgency")
    @blp.arguments(schemas.AgencyIn, example=schemas.AGENCY_IN_EXAMPLE)
    @blp.response(201, schemas.AgencyOut, example=schemas.AGENCY_EXAMPLE)
    def post(self, data: dict[str, Any]) -> Any:
        """Add an agency (host-organisation systems only)."""
        with unit_of_work():
            return services.create_agency(current_actor(), data)


@blp.route("/agencies/<int:agency_id>")
class AgencyResource(MethodView):
    @scoped(Scope.DIRECTORY_READ)
    @blp.doc(operationId="getAgency")
    @blp.response(200, schemas.AgencyOut, example=schemas.AGENCY_EXAMPLE)
    def get(self, agency_id: int) -> Any:
        """One agency."""
        return queries.get_agency(current_actor(), existing_id(agency_id))

    @scoped(Scope.DIRECTORY_WRITE)
    @blp.doc(operationId="updateAgency")
    @blp.arguments(schemas.AgencyPatch, example={"phone": "0113 496 0999"})
    @blp.response(200, schemas.AgencyOut, example=schemas.AGENCY_EXAMPLE)
    def patch(self, data: dict[str, Any], agency_id: int) -> Any:
        """Change an agency. A partner system may change its own agency's public details and key contacts."""
        actor = current_actor()
        agency = queries.get_agency(actor, existing_id(agency_id))
        with unit_of_work():
            services.update_agency(actor, agency, data)
        return agency


@blp.route("/agencies/<int:agency_id>/contacts")
class AgencyContacts(MethodView):
    @scoped(Scope.DIRECTORY_READ)
    @blp.doc(operationId="listContacts")
    @blp.response(200, schemas.ContactOut(many=True), example=[schemas.CONTACT_EXAMPLE])
    def get(self, agency_id: int) -> Any:
        """The agency's contacts: active ones, and (for the agency itself) those who have left."""
        actor = current_actor()
        return queries.contacts_of(actor, queries.get_agency(actor, existing_id(agency_id)))

    @scoped(Scope.DIRECTORY_WRITE)
    @blp.doc(operationId="addContact")
    @blp.arguments(schemas.ContactIn, example=schemas.CONTACT_IN_EXAMPLE)
    @blp.response(201, schemas.ContactOut, example=schemas.CONTACT_EXAMPLE)
    def post(self, data: dict[str, Any], agency_id: int) -> Any:
        """Add a contact to an agency (a partner system: its own agency only)."""
        actor = current_actor()
        agency = queries.get_agency(actor, existing_id(agency_id))
        with unit_of_work():
            return services.add_contact(actor, agency, data)


@blp.route("/agencies/<int:agency_id>/services")
class AgencyServices(MethodView):
    @scoped(Scope.DIRECTORY_READ)
    @blp.doc(operationId="listServices")
    @blp.response(200, schemas.ServiceOut(many=True), example=[schemas.SERVICE_EXAMPLE])
    def get(self, agency_id: int) -> Any:
        """The services the agency offers; `publish` true puts one in the Open Referral UK feed."""
        agency = queries.get_agency(current_actor(), existing_id(agency_id))
        return queries.services_of(agency.id)

    @scoped(Scope.DIRECTORY_WRITE)
    @blp.doc(operationId="addService")
    @blp.arguments(schemas.ServiceIn, example=schemas.SERVICE_IN_EXAMPLE)
    @blp.response(201, schemas.ServiceOut, example=schemas.SERVICE_EXAMPLE)
    def post(self, data: dict[str, Any], agency_id: int) -> Any:
        """Add a service (a partner system: its own agency's; publishing it is the partner agreeing)."""
        actor = current_actor()
        agency = queries.get_agency(actor, existing_id(agency_id))
        with unit_of_work():
            return services.add_service(actor, agency, data)


@blp.route("/services/<int:service_id>")
class ServiceResource(MethodView):
    @scoped(Scope.DIRECTORY_READ)
    @blp.doc(operationId="getService")
    @blp.response(200, schemas.ServiceOut, example=schemas.SERVICE_EXAMPLE)
    def get(self, service_id: int) -> Any:
        """One service."""
        return queries.get_service(current_actor(), existing_id(service_id))

    @scoped(Scope.DIRECTORY_WRITE)
    @blp.doc(operationId="updateService")
    @blp.arguments(schemas.ServicePatch, example={"status": "temporarily_closed"})
    @blp.response(200, schemas.ServiceOut, example=schemas.SERVICE_EXAMPLE)
    def patch(self, data: dict[str, Any], service_id: int) -> Any:
        """Change a service; `verified: true` confirms it is still right (the feed's `assured_date`)."""
        actor = current_actor()
        service = queries.get_service(actor, existing_id(service_id))
        with unit_of_work():
            services.update_service(actor, service, data)
        return service


@blp.route("/contacts/<int:contact_id>")
class ContactResource(MethodView):
    @scoped(Scope.DIRECTORY_READ)
    @blp.doc(operationId="getContact")
    @blp.response(200, schemas.ContactOut, example=schemas.CONTACT_EXAMPLE)
    def get(self, contact_id: int) -> Any:
        """One contact."""
        return queries.get_contact(current_actor(), existing_id(contact_id))

    @scoped(Scope.DIRECTORY_WRITE)
    @blp.doc(operationId="updateContact")
    @blp.arguments(schemas.ContactPatch, example={"phone": "0113 496 0002"})
    @blp.response(200, schemas.ContactOut, example=schemas.CONTACT_EXAMPLE)
    def patch(self, data: dict[str, Any], contact_id: int) -> Any:
        """Change a contact's details (not once they have left: 409)."""
        actor = current_actor()
        contact = queries.get_contact(actor, existing_id(contact_id))
        with unit_of_work():
            services.update_contact(actor, contact, data)
        return contact


@blp.route("/contacts/<int:contact_id>/leave")
class ContactLeave(MethodView):
    @scoped(Scope.DIRECTORY_WRITE)
    @blp.doc(operationId="recordLeaver")
    @blp.arguments(schemas.LeaveIn, example=schemas.LEAVE_EXAMPLE)
    @blp.response(200, schemas.ContactOut, example=schemas.LEFT_CONTACT_EXAMPLE)
    def post(self, data: dict[str, Any], contact_id: int) -> Any:
        """Record that a contact has left; their open work moves to the successor, else the key contact."""
        actor = current_actor()
        contact = queries.get_contact(actor, existing_id(contact_id))
        with unit_of_work():
            services.record_leaver(
                actor,
                contact,
                left_on=data["left_on"],
                successor_id=data.get("successor_id"),
                handover_note=data.get("handover_note", ""),
            )
        return contact


@blp.route("/users")
class Users(MethodView):
    @scoped(Scope.ADMIN)
    @blp.doc(operationId="listUsers")
    @blp.arguments(schemas.UserListArgs, location="query")
    @blp.response(200, schemas.UserOut(many=True), headers=TOTAL, example=[schemas.USER_EXAMPLE])
    def get(self, args: dict[str, Any]) -> Any:
        """Hub accounts and the contact each belongs to; the total is in `X-Total-Count`.

        A host-organisation system sees every account; a partner system, only its own agency's.
        `active` is false once the account is closed (its contact left, or it was closed).
        """
        page = queries.list_accounts(
            current_actor(), agency_id=args.get("agency_id"), page=args["page"], per_page=args["per_page"]
        )
        return page.items, 200, {"X-Total-Count": str(page.total)}


def register(app: Flask) -> None:
    api.register_blueprint(blp)
    from hub.extensions import csrf

    csrf.exempt(blp)
