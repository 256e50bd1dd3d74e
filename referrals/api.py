"""The referrals JSON API (``/api/v1``): thin views over the same services,
queries and policies as the web pages.

- A partner system sees only referrals to its own agency, and only once they
  were sent: anything else answers 404, as if it did not exist.
- A referral's ``service_user`` and ``reason`` are filled only while a basis
  for sharing is valid (:func:`referrals.services.open_referral`, which logs
  each such view by a partner as a disclosure); otherwise they are null and
  ``details_available`` is false. To a partner, ``service_user`` and
  ``service_user_id`` are filled only when the referral shares ``identity``:
  nothing else links two referrals about her.
- ``POST /referrals`` honours ``Idempotency-Key`` (:mod:`hub.idempotency`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, request
from flask.views import MethodView

from hub import idempotency
from hub.db import existing_id, unit_of_work
from hub.extensions import ApiBlueprint, api, csrf
from hub.permissions import Actor, Conflict, Invalid, Scope
from hub.web.guards import current_actor, documented_scope
from referrals import queries, schemas, services
from referrals.actions import ACTIONS, Action
from referrals.models import Referral

blp = ApiBlueprint(
    "referrals_api",
    __name__,
    url_prefix="/api/v1",
    description="Referrals: sent by the host organisation, acknowledged and acted on by the receiving agency.",
    tag="Referrals",
)
LIST_HEADERS = {"X-Total-Count": "X-Total-Count", "X-Total-Count-Capped": "X-Total-Count-Capped"}


def scoped(scope: Scope) -> Callable[[Any], Any]:
    """Guard a method with a bearer token holding `scope`, and document it."""
    return documented_scope(blp, scope.value)


def _reads(actor: Actor) -> bool:
    """Whether this caller may read referrals: a token with `referrals:write` alone takes
    actions, but its answers never carry her details."""
    return actor.actor_kind != "client" or Scope.REFERRALS_READ.value in getattr(actor, "scopes", frozenset())


def _view(actor: Actor, referral: Referral) -> dict[str, Any]:
    """The referral as this caller may see it (logging the view if it shows her details)."""
    if not _reads(actor):
        return schemas.view(referral, None, actor.is_staff)
    return schemas.view(referral, services.open_referral(actor, referral), actor.is_staff)


# Creating, with Idempotency-Key ---------------------------------------------------


def _owner(actor: Actor) -> str:
    return f"{actor.actor_kind}:{actor.actor_id}"


def _replayed(actor: Actor, stored: tuple[int, dict[str, Any]]) -> Any:
    """The answer to a retry: the same status, and the referral it created (as it is now)."""
    status, body = stored
    with unit_of_work():
        out = _view(actor, queries.get_referral(actor, body["id"]))
    return out, status, {"Idempotent-Replayed": "true"}


def _is_key_clash(error: sa.exc.IntegrityError) -> bool:
    return "idempotency_keys" in str(error.orig)


@blp.route("/referrals")
class Referrals(MethodView):
    @scoped(Scope.REFERRALS_READ)
    @blp.doc(operationId="listReferrals")
    @blp.arguments(schemas.ReferralListArgs, location="query")
    @blp.response(200, schemas.ReferralOut(many=True), headers=LIST_HEADERS, example=[schemas.REFERRAL_EXAMPLE])
    def get(self, args: dict[str, Any]) -> Any:
        """List the referrals you may see; the total is in `X-Total-Count`.

        Filter by `status`, `agency_id`, `service_user_id` (host organisation only: 422 for a partner)
        and `overdue`. A partner system sees its own agency's referrals, from sent on. Lists never carry
        her details (`service_user`, `reason` and `details_available` are null, and for a partner
        `service_user_id` too): read one referral to see them, which is logged.
        """
        actor = current_actor()
        if args.get("service_user_id") is not None and not actor.is_staff:
            raise Invalid.on_field("service_user_id", "Only the host organisation can filter by the woman referred")
        page = queries.list_referrals(actor, **args, for_page=False)
        items = [schemas.view(referral, None, actor.is_staff) for referral in page.items]
        # Counted up to COUNT_CAP (1,000): past it, X-Total-Count says 1000 and X-Total-Count-Capped true.
        headers = {"X-Total-Count": str(page.total)}
        if page.more:
            headers["X-Total-Count-Capped"] = "true"
        return items, 200, headers

    @scoped(Scope.REFERRALS_WRITE)
    @blp.arguments(schemas.ReferralIn, example=schemas.REFERRAL_IN_EXAMPLE)
    @blp.response(
        201,
        schemas.ReferralOut,
        headers={"Idempotent-Replayed": "Idempotent-Replayed"},
        example={**schemas.REFERRAL_READ_EXAMPLE, "status": "draft", "sent_at": None, "acknowledge_by": None,
                 "recipient_contact_id": None},
    )  # fmt: skip
    @blp.doc(
        operationId="createReferral",
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "maxLength": idempotency.KEY_MAX},
                "description": (
                    "Make retries safe: a repeat with the same key and body creates nothing new and answers "
                    "as the first did (header Idempotent-Replayed: true); the same key with another body is 422."
                ),
            }
        ],
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Create a draft referral (host-organisation systems only)."""
        actor = current_actor()
        raw_key = request.headers.get("Idempotency-Key")
        if raw_key is None:
            with unit_of_work():
                return _view(actor, services.create_referral(actor, data))
        key, owner = idempotency.check_key(raw_key), _owner(actor)
        if (stored := idempotency.replay(owner, key, data)) is not None:
            return _replayed(actor, stored)
        try:
            with unit_of_work():
                referral = services.create_referral(actor, data)
                # Ids and codes only: her name and the reason stay in the referral, not in the key's row.
                idempotency.remember(owner, key, data, 201, {"id": referral.id, "reference": referral.reference})
                return _view(actor, referral)
        except sa.exc.IntegrityError as error:
            if not _is_key_clash(error):
                raise
        # A copy of this request won the race and committed first: answer as it did.
        if (stored := idempotency.replay(owner, key, data)) is not None:
            return _replayed(actor, stored)
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")


@blp.route("/referrals/<int:referral_id>")
class ReferralResource(MethodView):
    @scoped(Scope.REFERRALS_READ)
    @blp.doc(operationId="getReferral")
    @blp.response(200, schemas.ReferralOut, example=schemas.REFERRAL_READ_EXAMPLE)
    def get(self, referral_id: int) -> Any:
        """One referral; her details only while a basis for sharing is valid (a partner's view is logged)."""
        actor = current_actor()
        with unit_of_work():
            return _view(actor, queries.get_referral(actor, existing_id(referral_id)))


def _fields(obj: Any, schema: type) -> dict[str, Any]:
    """The values an output schema would read from `obj`, before dumping."""
    return {name: getattr(obj, name) for name in schema().fields}


@blp.route("/referrals/<int:referral_id>/events")
class ReferralEvents(MethodView):
    @scoped(Scope.REFERRALS_READ)
    @blp.doc(operationId="listReferralEvents")
    @blp.response(200, schemas.ReferralEventOut(many=True), example=[schemas.EVENT_EXAMPLE])
    def get(self, referral_id: int) -> Any:
        """The referral's history, oldest first. Notes (reasons, outcomes) are null for a
        partner while her details are not available to it."""
        actor = current_actor()
        referral = queries.get_referral(actor, existing_id(referral_id))
        events = queries.events_of(referral)
        if queries.details_visible(actor, referral).visible:
            return events
        return [{**_fields(e, schemas.ReferralEventOut), "note": None} for e in events]


@blp.route("/referrals/<int:referral_id>/messages")
class ReferralMessages(MethodView):
    @scoped(Scope.REFERRALS_READ)
    @blp.doc(operationId="listReferralMessages")
    @blp.response(200, schemas.MessageOut(many=True), example=[schemas.MESSAGE_EXAMPLE])
    def get(self, referral_id: int) -> Any:
        """Messages between the sender and the receiving agency, oldest first. They may
        carry details of her life, so a partner reads them only while her details are
        available to it (each read is logged); otherwise `body` is null."""
        actor = current_actor()
        referral = queries.get_referral(actor, existing_id(referral_id))
        messages = queries.messages_of(referral)
        with unit_of_work():
            # Reading messages is reading her details: logged, but only when there are any to read.
            read = services.open_referral if messages else queries.details_visible
            visible = read(actor, referral).visible
        if visible:
            return messages
        return [{**_fields(m, schemas.MessageOut), "body": None} for m in messages]

    @scoped(Scope.REFERRALS_WRITE)
    @blp.doc(operationId="postReferralMessage")
    @blp.arguments(schemas.MessageIn, example={"body": schemas.MESSAGE_EXAMPLE["body"]})
    @blp.response(201, schemas.MessageOut, example=schemas.MESSAGE_EXAMPLE)
    def post(self, data: dict[str, Any], referral_id: int) -> Any:
        """Write to the other side about a sent referral.

        The other side is told there is a message, never what it says.
        """
        actor = current_actor()
        referral = queries.get_referral(actor, existing_id(referral_id))
        with unit_of_work():
            return services.post_message(actor, referral, data["body"])


# Status changes: one documented endpoint per action ---------------------------------


def _action_view(name: str, action: Action) -> type[MethodView]:
    def post(self: MethodView, data: dict[str, Any], referral_id: int) -> Any:
        actor = current_actor()
        with unit_of_work():
            referral = queries.get_referral(actor, existing_id(referral_id))
            action.run(actor, referral, data)
            # The answer to an action says where the referral is now; her details are read with GET
            # (one disclosure per read), not handed out again with every step the agency takes.
            return schemas.view(
                referral, services.open_referral(actor, referral) if actor.is_staff else None, actor.is_staff
            )

    post.__doc__ = f"{action.summary}\n\nNot the caller's to take: 403. Not allowed from the current status: 409."
    body_optional = getattr(action.schema, "BODY_OPTIONAL", False)
    example = ACTION_EXAMPLES.get(name)
    decorated = scoped(Scope.REFERRALS_WRITE)(
        blp.doc(operationId=f"{name}Referral")(
            blp.arguments(action.schema, required=not body_optional, example=example)(
                blp.response(200, schemas.ReferralOut, example=ACTION_ANSWERS.get(name))(post)
            )
        )
    )
    return type(f"Referral{name.capitalize()}", (MethodView,), {"post": decorated, "__doc__": action.summary})


ACTION_EXAMPLES: dict[str, dict[str, Any]] = {
    "decline": {"reason": "Outside our area: please refer to County Probation."},
    "hold": {"reason": "She is in hospital this week."},
    "cancel": {"reason": "Sent to the wrong agency."},
    "complete": {"outcome": "Housed at Hope House."},
}
ACTION_ANSWERS: dict[str, dict[str, Any]] = {"acknowledge": schemas.REFERRAL_ACKNOWLEDGED_EXAMPLE}

for _name, _action in ACTIONS.items():
    _cls = _action_view(_name, _action)
    blp.route(f"/referrals/<int:referral_id>/{_name}", endpoint=_cls.__name__)(_cls)


def register(app: Flask) -> None:
    api.register_blueprint(blp)
    csrf.exempt(blp)
