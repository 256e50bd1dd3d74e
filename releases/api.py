"""The release-planning JSON API (``/api/v1``): custody episodes, the
day-of-release rule, release plans and upcoming releases.

- Custody and plans are the host organisation's: to a partner system every
  custody endpoint answers 404, as if nothing were there.
- ``GET /releases`` gives a partner system only the releases whose plan
  includes its agency and whose consent covers ``release_planning`` for it
  now, without who she is unless that consent shares ``identity``; each one
  listed is logged as a disclosure.
- ``GET /release-date`` works out a day of release for any valid token and
  stores nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.views import MethodView

from consent import queries as consent_queries
from consent import sharing
from consent.models import DisclosureKind
from hub.db import existing_id, today, unit_of_work
from hub.extensions import ApiBlueprint, api, csrf
from hub.permissions import Actor, Invalid, NotFound, Scope
from hub.web.guards import api_scope, current_actor, documented_scope
from referrals import schemas as referral_schemas
from releases import dates, notices, policies, queries, schemas, services
from releases.models import CustodyEpisode

blp = ApiBlueprint(
    "releases_api",
    __name__,
    url_prefix="/api/v1",
    description="Release planning: custody episodes, the day-of-release rule, release plans and the releases "
    "to come (custody and plans: host-organisation systems only; to anyone else they answer 404).",
    tag="Release planning",
)


def _host_only(func: Any) -> Any:
    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not policies.can_view_custody(current_actor()):
            raise NotFound("No such resource.")
        return func(*args, **kwargs)

    return guarded


def host_scoped(scope: Scope) -> Callable[[Any], Any]:
    def decorator(func: Any) -> Any:
        documented = blp.alt_response(404, response="NOT_FOUND")(_host_only(func))
        return documented_scope(blp, scope.value)(documented)

    return decorator


def custody_out(custody: CustodyEpisode, *, identity: bool = True) -> dict[str, Any]:
    day = notices.release_day_of(custody)
    out = {name: getattr(custody, name) for name in schemas.CustodyOut._declared_fields if hasattr(custody, name)}
    out["release"] = day.as_dict()
    if not identity:
        out["service_user_id"] = None
    return out


@blp.route("/service-users/<int:service_user_id>/custody")
class ServiceUserCustody(MethodView):
    @host_scoped(Scope.RELEASES_READ)
    @blp.doc(operationId="listCustody")
    @blp.response(200, schemas.CustodyOut(many=True), example=[schemas.CUSTODY_EXAMPLE])
    def get(self, service_user_id: int) -> Any:
        """Her custody episodes, the newest first."""
        actor = current_actor()
        person = consent_queries.get_service_user(actor, existing_id(service_user_id))
        return [custody_out(c) for c in queries.custody_of(actor, person.id)]

    @host_scoped(Scope.RELEASES_WRITE)
    @blp.doc(operationId="recordCustody")
    @blp.arguments(schemas.CustodyIn, example=schemas.CUSTODY_IN_EXAMPLE)
    @blp.response(201, schemas.CustodyOut, example=schemas.CUSTODY_EXAMPLE)
    def post(self, data: dict[str, Any], service_user_id: int) -> Any:
        """Record a custody episode from what the prison or probation told us; `release` is the day-of-release
        rule's answer (an expectation: the prison's date is authoritative)."""
        actor = current_actor()
        person = consent_queries.get_service_user(actor, existing_id(service_user_id))
        with unit_of_work():
            custody = services.record_custody(actor, person, data)
            return custody_out(custody)


@blp.route("/custody/<int:custody_id>")
class CustodyResource(MethodView):
    @host_scoped(Scope.RELEASES_READ)
    @blp.doc(operationId="getCustody")
    @blp.response(200, schemas.CustodyOut, example=schemas.CUSTODY_EXAMPLE)
    def get(self, custody_id: int) -> Any:
        """One custody episode, with its release."""
        return custody_out(queries.get_custody(current_actor(), existing_id(custody_id)))

    @host_scoped(Scope.RELEASES_WRITE)
    @blp.doc(operationId="changeCustody")
    @blp.arguments(schemas.CustodyPatch, example={"nominal_release_on": "2026-04-03"})
    @blp.response(200, schemas.CustodyOut, example=schemas.CUSTODY_EXAMPLE)
    def patch(self, data: dict[str, Any], custody_id: int) -> Any:
        """Change what was recorded. A changed date or type recomputes `release`; if the day she could walk out
        moved, every plan item and open plan referral moves with it and every agency in the plan is told at once."""
        actor = current_actor()
        custody = queries.get_custody(actor, existing_id(custody_id))
        with unit_of_work():
            services.change_custody(actor, custody, data)
            return custody_out(custody)


@blp.route("/custody/<int:custody_id>/released")
class CustodyReleased(MethodView):
    @host_scoped(Scope.RELEASES_WRITE)
    @blp.doc(operationId="recordRelease")
    @blp.arguments(schemas.ReleasedIn, example={"released_on": "2026-03-26", "night_one": "other_housed"})
    @blp.response(200, schemas.CustodyOut, example=schemas.CUSTODY_EXAMPLE)
    def post(self, data: dict[str, Any], custody_id: int) -> Any:
        """She left prison: records the day, and which agencies in the plan had been told the date (409 if she
        is not in custody)."""
        actor = current_actor()
        custody = queries.get_custody(actor, existing_id(custody_id))
        with unit_of_work():
            services.record_release(actor, custody, data["released_on"], data.get("night_one"))
            return custody_out(custody)


@blp.route("/custody/<int:custody_id>/recall")
class CustodyRecall(MethodView):
    @host_scoped(Scope.RELEASES_WRITE)
    @blp.doc(operationId="recordRecall")
    @blp.arguments(schemas.RecallIn, example={"nominal_release_on": "2026-06-05"})
    @blp.response(200, schemas.CustodyOut, example=schemas.CUSTODY_EXAMPLE)
    def post(self, data: dict[str, Any], custody_id: int) -> Any:
        """She was recalled: the plan is kept and the timeline starts again from the new date (409 unless she
        had been released)."""
        actor = current_actor()
        custody = queries.get_custody(actor, existing_id(custody_id))
        with unit_of_work():
            services.record_recall(actor, custody, data)
            return custody_out(custody)


def _listed(actor: Actor, args: dict[str, Any]) -> list[dict[str, Any]]:
    start = args.get("from_") or today()
    end = args.get("to") or start + dt.timedelta(weeks=queries.BOARD_WEEKS)
    if actor.is_staff:
        rows = queries.list_releases(actor, start, end, page=args["page"], per_page=args["per_page"])
        return [
            {**custody_out(row.custody), "items_not_done": row.items_open, "items_overdue": row.items_overdue,
             "status_colour": row.colour}
            for row in rows
        ]  # fmt: skip
    shared = [(c, b) for c, b in queries.partner_releases(actor) if start <= c.expected_on <= end]
    sharing.disclose_many(actor, [
        (basis, {"service_user_id": c.service_user_id, "agency_id": actor.agency_id, "kind": DisclosureKind.VIEWED,
                 "categories": notices.NOTICE_CATEGORIES, "purpose": notices.PURPOSE,
                 "context": "release_list", "context_id": c.id})
        for c, basis in shared
    ])  # fmt: skip
    return [
        {**custody_out(c, identity=queries.shares_identity(b)), "items_not_done": None, "items_overdue": None,
         "status_colour": None}
        for c, b in shared
    ]  # fmt: skip


@blp.route("/releases")
class Releases(MethodView):
    @documented_scope(blp, Scope.RELEASES_READ.value)
    @blp.doc(operationId="listReleases")
    @blp.arguments(schemas.ReleaseListArgs, location="query")
    @blp.response(200, schemas.ReleaseListOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Custody episodes whose expected release falls in `from` to `to` (default: the next 8 weeks), soonest
        first, with how many plan items are not done. A partner system sees only the releases whose plan includes
        its agency and whose consent covers release planning with it now (each listed is logged as a disclosure),
        without `service_user_id` unless that consent shares who she is."""
        actor = current_actor()
        with unit_of_work():
            return _listed(actor, args)


@blp.route("/release-date")
class ReleaseDate(MethodView):
    @api_scope()
    @blp.doc(operationId="workOutReleaseDate", security=[{"oauth2": []}])
    @blp.arguments(schemas.ReleaseDateArgs, location="query")
    @blp.response(200, schemas.ReleaseOut, example=schemas.EXAMPLE_RELEASE)
    def get(self, args: dict[str, Any]) -> Any:
        """Work out the day of release from the date the prison or probation gave, storing nothing (any valid
        token). Never later than the statutory day; `ask_the_prison` where eligibility cannot be decided."""
        nominal = args.pop("nominal_on")
        if args.get("sentenced_on") is not None and args["sentenced_on"] > nominal:
            raise Invalid.on_field("sentenced_on", "The sentence date must be on or before the release date")
        try:
            return dates.release_day(nominal, **args).as_dict()
        except ValueError as exc:  # inputs the rule cannot work with: a clear 422, never a 500
            raise Invalid(str(exc)) from None


@blp.route("/custody/<int:custody_id>/plan-items")
class PlanItems(MethodView):
    @host_scoped(Scope.RELEASES_READ)
    @blp.doc(operationId="listPlanItems")
    @blp.response(200, schemas.PlanItemOut(many=True), example=[schemas.PLAN_ITEM_EXAMPLE])
    def get(self, custody_id: int) -> Any:
        """Her release plan, soonest due first."""
        return queries.plan_items(queries.get_custody(current_actor(), existing_id(custody_id)))

    @host_scoped(Scope.RELEASES_WRITE)
    @blp.doc(operationId="addPlanItem")
    @blp.arguments(schemas.PlanItemIn, example={"pathway": "health", "title": "Register with a GP before release",
                                                "agency_id": 5, "due_on": "2026-02-25"})  # fmt: skip
    @blp.response(201, schemas.PlanItemOut, example=schemas.PLAN_ITEM_EXAMPLE)
    def post(self, data: dict[str, Any], custody_id: int) -> Any:
        """Add an item to her plan; an agency new to the plan is told the dates (where her consent covers it)."""
        actor = current_actor()
        custody = queries.get_custody(actor, existing_id(custody_id))
        with unit_of_work():
            return services.add_plan_item(actor, custody, data)


@blp.route("/plan-items/<int:item_id>")
class PlanItemResource(MethodView):
    @host_scoped(Scope.RELEASES_WRITE)
    @blp.doc(operationId="changePlanItem")
    @blp.arguments(schemas.PlanItemPatch, example={"status": "done"})
    @blp.response(200, schemas.PlanItemOut, example=schemas.PLAN_ITEM_EXAMPLE)
    def patch(self, data: dict[str, Any], item_id: int) -> Any:
        """Change an item: its status, who does it, when it is due."""
        actor = current_actor()
        item = queries.get_plan_item(actor, existing_id(item_id))
        with unit_of_work():
            return services.change_plan_item(actor, item, data)


@blp.route("/plan-items/<int:item_id>/referral")
class PlanItemReferral(MethodView):
    @host_scoped(Scope.RELEASES_WRITE)
    @blp.doc(operationId="referPlanItem")
    @blp.arguments(schemas.PlanReferralIn, example={"agency_id": 5, "data_categories": ["identity", "criminal_justice"],
                                                    "reason": "Please register her before release.",
                                                    "urgency": "routine"})  # fmt: skip
    @blp.response(201, referral_schemas.ReferralOut)
    def post(self, data: dict[str, Any], item_id: int) -> Any:
        """Ask a partner to do this item: a referral with purpose `release_planning`, due by the item's due date,
        sent through the consent gate (422 with `missing` where her consent does not cover it)."""
        actor = current_actor()
        item = queries.get_plan_item(actor, existing_id(item_id))
        with unit_of_work():
            referral = services.refer_plan_item(actor, item, data)
            return referral_schemas.view(referral, None, True)


def register(app: Flask) -> None:
    api.register_blueprint(blp)
    csrf.exempt(blp)
