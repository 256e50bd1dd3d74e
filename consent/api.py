"""The consent package's JSON API (``/api/v1``): service users, their
consents and their disclosure history.

All of it is for the host organisation's own systems. To anyone else
(partner systems) every endpoint answers 404, as if nothing were there: a
partner learns about a woman only through a referral sent to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.views import MethodView

from consent import policies, queries, schemas, services
from hub.db import existing_id, unit_of_work
from hub.extensions import ApiBlueprint, api, csrf
from hub.permissions import NotFound, Scope
from hub.web.guards import current_actor, documented_scope

blp = ApiBlueprint(
    "consent_api",
    __name__,
    url_prefix="/api/v1",
    description="Service users, consent to share and the disclosure log (host-organisation systems only: to "
    "anyone else every operation answers 404).",
    tag="Service users and consent",
)


def _host_only(func: Any) -> Any:
    """404 for anyone but the host organisation, before the body is even read."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not policies.can_view_service_users(current_actor()):
            raise NotFound("No such resource.")
        return func(*args, **kwargs)

    return guarded


def scoped(scope: Scope) -> Callable[[Any], Any]:
    """Guard a method with a bearer token holding `scope` and held by a
    host-organisation system, and document it."""

    def decorator(func: Any) -> Any:
        # 404 to anyone but the host organisation, whatever the path: documented on every operation.
        documented = blp.alt_response(404, response="NOT_FOUND")(_host_only(func))
        return documented_scope(blp, scope.value)(documented)

    return decorator


@blp.route("/service-users")
class ServiceUsers(MethodView):
    @scoped(Scope.SERVICE_USERS_WRITE)
    @blp.doc(operationId="createServiceUser")
    @blp.arguments(schemas.ServiceUserIn, example=schemas.SERVICE_USER_IN_EXAMPLE)
    @blp.response(201, schemas.ServiceUserOut, example=schemas.SERVICE_USER_EXAMPLE)
    def post(self, data: dict[str, Any]) -> Any:
        """Record a woman we support; she gets a hub reference."""
        with unit_of_work():
            return services.create_service_user(current_actor(), data)


@blp.route("/service-users/<int:service_user_id>")
class ServiceUserResource(MethodView):
    @scoped(Scope.SERVICE_USERS_READ)
    @blp.doc(operationId="getServiceUser")
    @blp.response(200, schemas.ServiceUserOut, example=schemas.SERVICE_USER_EXAMPLE)
    def get(self, service_user_id: int) -> Any:
        """One woman we support."""
        return queries.get_service_user(current_actor(), existing_id(service_user_id))


@blp.route("/service-users/<int:service_user_id>/consents")
class ServiceUserConsents(MethodView):
    @scoped(Scope.SERVICE_USERS_READ)
    @blp.doc(operationId="listConsents")
    @blp.response(200, schemas.ConsentOut(many=True), example=[schemas.CONSENT_EXAMPLE])
    def get(self, service_user_id: int) -> Any:
        """Her consents: active, withdrawn and expired."""
        person = queries.get_service_user(current_actor(), existing_id(service_user_id))
        return queries.consents_of(person)

    @scoped(Scope.CONSENT_WRITE)
    @blp.doc(operationId="recordConsent")
    @blp.arguments(schemas.ConsentIn, example=schemas.CONSENT_IN_EXAMPLE)
    @blp.response(201, schemas.ConsentOut, example=schemas.CONSENT_EXAMPLE)
    def post(self, data: dict[str, Any], service_user_id: int) -> Any:
        """Record her consent to share named kinds of information with one named agency, for named purposes."""
        actor = current_actor()
        person = queries.get_service_user(actor, existing_id(service_user_id))
        with unit_of_work():
            return services.record_consent(actor, person, data)


@blp.route("/consents/<int:consent_id>/withdraw")
class ConsentWithdraw(MethodView):
    @scoped(Scope.CONSENT_WRITE)
    @blp.doc(operationId="withdrawConsent")
    @blp.arguments(schemas.WithdrawIn, example={"reason": "She asked us to stop sharing with this agency."})
    @blp.response(200, schemas.ConsentOut)
    def post(self, data: dict[str, Any], consent_id: int) -> Any:
        """Withdraw a consent, at once: the open referrals it covered go on hold (409 if not active)."""
        actor = current_actor()
        record = queries.get_consent(actor, existing_id(consent_id))
        with unit_of_work():
            return services.withdraw_consent(actor, record, data["reason"])


@blp.route("/service-users/<int:service_user_id>/disclosures")
class ServiceUserDisclosures(MethodView):
    @scoped(Scope.SERVICE_USERS_READ)
    @blp.doc(operationId="listDisclosures")
    @blp.response(200, schemas.DisclosureOut(many=True), example=[schemas.DISCLOSURE_EXAMPLE])
    def get(self, service_user_id: int) -> Any:
        """Who was given or shown what about her, when, by whom and on what basis."""
        actor = current_actor()
        return queries.disclosures_of(actor, queries.get_service_user(actor, existing_id(service_user_id)))


def register(app: Flask) -> None:
    api.register_blueprint(blp)
    csrf.exempt(blp)
