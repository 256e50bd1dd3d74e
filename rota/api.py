"""The drop-in rota's JSON API (``/api/v1/rota``) and calendar feeds (``/api/v1/calendar-feeds``).

- Any partner system with ``rota:read`` sees the sessions, their slots (who
  is named to attend only for its own agency's), and the gaps.
- With ``rota:write`` a partner system takes, confirms and gives back its
  own agency's slots and makes its own agency's commitments and feeds; the
  host organisation's systems act as a manager (sessions, cancellations,
  records).
- A commitment or feed of another agency answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, url_for
from flask.views import MethodView

from hub.db import existing_id, today, unit_of_work
from hub.extensions import ApiBlueprint, api, csrf
from hub.permissions import Actor, Denied, Invalid, Scope
from hub.web.guards import current_actor, documented_scope
from rota import queries, schemas, services
from rota.models import RotaSession, RotaSlot

blp = ApiBlueprint(
    "rota_api",
    __name__,
    url_prefix="/api/v1",
    description="The weekly multi-agency drop-in: sessions, slots by service, agency commitments, gaps, the record "
    "of each session (counts only, never names) and private calendar feeds.",
    tag="Drop-in rota",
)
READ, WRITE = Scope.ROTA_READ.value, Scope.ROTA_WRITE.value


def slot_out(actor: Actor, slot: RotaSlot) -> dict[str, Any]:
    out = {name: getattr(slot, name) for name in schemas.SlotOut._declared_fields}
    if not queries.shows_attendee(actor, slot):
        out["contact_id"] = None
    return out


def session_out(actor: Actor, session: RotaSession, slots: list[RotaSlot] | None = None) -> dict[str, Any]:
    out = {name: getattr(session, name) for name in schemas.SessionOut._declared_fields}
    if slots is not None:
        out["slots"] = [slot_out(actor, s) for s in slots]
    return out


def _window(args: dict[str, Any], weeks: int = queries.GRID_WEEKS) -> tuple[dt.date, dt.date]:
    start = args.get("from_") or today()
    end = args.get("to") or start + dt.timedelta(weeks=weeks)
    if end < start:
        raise Invalid.on_field("to", "The end must be on or after the start")
    if (end - start).days > 366:
        raise Invalid.on_field("to", "Ask for a year at most")
    return start, end


@blp.route("/rota/sessions")
class Sessions(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="listRotaSessions")
    @blp.arguments(schemas.SessionListArgs, location="query")
    @blp.response(200, schemas.SessionOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Sessions from `from` to `to` (default: the next 8 weeks), soonest first."""
        start, end = _window(args)
        actor = current_actor()
        return [session_out(actor, s) for s in queries.sessions_between(start, end)]

    @documented_scope(blp, WRITE)
    @blp.doc(operationId="createRotaSession")
    @blp.arguments(schemas.SessionIn, example={"date": "2027-01-06", "starts_at": "10:00", "ends_at": "14:00",
                                               "venue": "The Women's Centre, 12 Example Street"})  # fmt: skip
    @blp.response(201, schemas.SessionWithSlotsOut)
    def post(self, data: dict[str, Any]) -> Any:
        """A one-off session (the weekly ones are generated), with a slot for each service the drop-in wants
        (the host organisation's systems; to a partner, 403)."""
        actor = current_actor()
        with unit_of_work():
            session = services.create_session(actor, data)
            return session_out(actor, session, queries.slots_of([session.id])[session.id])


@blp.route("/rota/sessions/<int:session_id>")
class SessionResource(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="getRotaSession")
    @blp.response(200, schemas.SessionWithSlotsOut)
    def get(self, session_id: int) -> Any:
        """One session with its slots."""
        actor = current_actor()
        session = queries.get_session(actor, existing_id(session_id))
        return session_out(actor, session, queries.slots_of([session.id])[session.id])

    @documented_scope(blp, WRITE)
    @blp.doc(operationId="changeRotaSession")
    @blp.arguments(schemas.SessionPatch, example={"starts_at": "11:00"})
    @blp.response(200, schemas.SessionWithSlotsOut)
    def patch(self, data: dict[str, Any], session_id: int) -> Any:
        """Change this session only (its time or venue); every agency booked is told."""
        actor = current_actor()
        session = queries.get_session(actor, existing_id(session_id))
        with unit_of_work():
            services.edit_session(actor, session, data)
            return session_out(actor, session, queries.slots_of([session.id])[session.id])


@blp.route("/rota/sessions/<int:session_id>/cancel")
class SessionCancel(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="cancelRotaSession")
    @blp.arguments(schemas.RotaReasonIn, example={"reason": "The venue is closed for repairs"})
    @blp.response(200, schemas.SessionOut)
    def post(self, data: dict[str, Any], session_id: int) -> Any:
        """Cancel a session: everyone booked is told (409 if it is already cancelled or past)."""
        actor = current_actor()
        session = queries.get_session(actor, existing_id(session_id))
        with unit_of_work():
            services.cancel_session(actor, session, data["reason"])
            return session_out(actor, session)


@blp.route("/rota/sessions/<int:session_id>/slots")
class SessionSlots(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="addRotaSlot")
    @blp.arguments(schemas.SlotIn, example={"service": "legal"})
    @blp.response(201, schemas.SlotOut)
    def post(self, data: dict[str, Any], session_id: int) -> Any:
        """Add a slot for a service to a session."""
        actor = current_actor()
        session = queries.get_session(actor, existing_id(session_id))
        with unit_of_work():
            return slot_out(actor, services.add_slot(actor, session, data["service"]))


def _contact_of(actor: Actor) -> int | None:
    return None  # a partner system is not a person: it acts with its agency's lead's rights


@blp.route("/rota/slots/<int:slot_id>/take")
class SlotTake(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="takeRotaSlot")
    @blp.arguments(schemas.TakeIn, example={"agency_id": 4, "contact_id": 12})
    @blp.response(200, schemas.SlotOut)
    def post(self, data: dict[str, Any], slot_id: int) -> Any:
        """Take an open slot for an agency (a partner: its own only). Already taken: 409, first come first served."""
        actor = current_actor()
        slot = queries.get_slot(actor, existing_id(slot_id))
        with unit_of_work():
            return slot_out(actor, services.take_slot(actor, slot, data["agency_id"], data.get("contact_id")))


@blp.route("/rota/slots/<int:slot_id>/confirm")
class SlotConfirm(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="confirmRotaSlot")
    @blp.response(200, schemas.SlotOut)
    def post(self, slot_id: int) -> Any:
        """The agency holding the slot confirms it is coming (409 if nobody holds it)."""
        actor = current_actor()
        slot = queries.get_slot(actor, existing_id(slot_id))
        with unit_of_work():
            return slot_out(actor, services.confirm_slot(actor, slot, _contact_of(actor)))


@blp.route("/rota/slots/<int:slot_id>/cant-attend")
class SlotCantAttend(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="cantAttendRotaSlot")
    @blp.arguments(schemas.RotaReasonIn, example={"reason": "Our adviser is off sick"})
    @blp.response(200, schemas.SlotOut)
    def post(self, data: dict[str, Any], slot_id: int) -> Any:
        """The agency cannot come: the slot is open again and the agencies offering that service are asked to
        cover (the first to take it has it)."""
        actor = current_actor()
        slot = queries.get_slot(actor, existing_id(slot_id))
        with unit_of_work():
            services.cant_attend(actor, slot, data["reason"], _contact_of(actor))
            return slot_out(actor, slot)


@blp.route("/rota/slots/<int:slot_id>/attendee")
class SlotAttendee(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="nameRotaAttendee")
    @blp.arguments(schemas.AttendeeIn, example={"contact_id": 12})
    @blp.response(200, schemas.SlotOut)
    def put(self, data: dict[str, Any], slot_id: int) -> Any:
        """Name who comes for the agency (null: its key contact)."""
        actor = current_actor()
        slot = queries.get_slot(actor, existing_id(slot_id))
        with unit_of_work():
            return slot_out(actor, services.set_attendee(actor, slot, data["contact_id"]))


@blp.route("/rota/slots/<int:slot_id>/ask")
class SlotAsk(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="askAgencyToFillRotaSlot")
    @blp.arguments(schemas.AskIn, example={"agency_id": 4})
    @blp.response(200, schemas.SlotOut)
    def post(self, data: dict[str, Any], slot_id: int) -> Any:
        """A manager asks one agency to fill a gap (the host organisation's systems)."""
        actor = current_actor()
        slot = queries.get_slot(actor, existing_id(slot_id))
        with unit_of_work():
            services.ask_agency(actor, slot, data["agency_id"])
            return slot_out(actor, slot)


@blp.route("/rota/commitments")
class Commitments(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="listRotaCommitments")
    @blp.response(200, schemas.CommitmentOut(many=True))
    def get(self) -> Any:
        """Standing commitments still running (a partner: its own agency's)."""
        return queries.commitments_of(current_actor())

    @documented_scope(blp, WRITE)
    @blp.doc(operationId="createRotaCommitment")
    @blp.arguments(schemas.CommitmentIn, example={"agency_id": 4, "service": "housing", "weekdays_of_month": [1, 3],
                                                  "starts_on": "2027-01-01"})  # fmt: skip
    @blp.response(201, schemas.CommitmentOut)
    def post(self, data: dict[str, Any]) -> Any:
        """A standing offer (`weekdays_of_month` such as [1, 3]: the first and third; absent: every session);
        the hub takes the matching slots now and as sessions are generated (a partner: its own agency only)."""
        actor = current_actor()
        with unit_of_work():
            return services.create_commitment(actor, data)


@blp.route("/rota/commitments/<int:commitment_id>")
class CommitmentResource(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="changeRotaCommitment")
    @blp.arguments(schemas.CommitmentPatch, example={"weekdays_of_month": [2, 4]})
    @blp.response(200, schemas.CommitmentOut)
    def patch(self, data: dict[str, Any], commitment_id: int) -> Any:
        """Change the pattern, who comes or the last day: slots on days no longer in it open again."""
        actor = current_actor()
        commitment = queries.get_commitment(actor, existing_id(commitment_id))
        with unit_of_work():
            return services.change_commitment(actor, commitment, data)

    @documented_scope(blp, WRITE)
    @blp.doc(operationId="endRotaCommitment")
    @blp.response(200, schemas.CommitmentOut)
    def delete(self, commitment_id: int) -> Any:
        """End it from today: its future slots open again (409 if it has already ended). Returns it, ended."""
        actor = current_actor()
        commitment = queries.get_commitment(actor, existing_id(commitment_id))
        with unit_of_work():
            services.end_commitment(actor, commitment)
            return commitment


@blp.route("/rota/gaps")
class Gaps(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="listRotaGaps")
    @blp.arguments(schemas.SessionListArgs, location="query")
    @blp.response(200, schemas.GapOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Every service the hub wants at each scheduled session that no agency has taken."""
        start, end = _window(args)
        return [
            {"session_id": session.id, "date": session.date, "service": service, "slot_id": slot.id}
            for session, service, slot in queries.gaps(start, end)
        ]


def _record_out(session: RotaSession) -> dict[str, Any]:
    record, rows, changes = queries.record_of(session)
    if record is None:
        return {"session_id": session.id, "women_attended": None, "new_women": None, "agencies": [],
                "finalised": False, "finalised_at": None, "changes": 0}  # fmt: skip
    return {
        "session_id": session.id, "women_attended": record.women_attended, "new_women": record.new_women,
        "agencies": sorted(rows, key=lambda r: r.agency_id), "finalised": record.is_final,
        "finalised_at": record.finalised_at, "changes": len(changes),
    }  # fmt: skip


@blp.route("/rota/sessions/<int:session_id>/record")
class SessionRecordResource(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="getRotaRecord")
    @blp.response(200, schemas.RecordOut)
    def get(self, session_id: int) -> Any:
        """What happened at the session: counts only (the host organisation's systems; to a partner, 403)."""
        actor = current_actor()
        session = queries.get_session(actor, existing_id(session_id))
        if not actor.is_staff:
            raise Denied("The session record is the charity's.")
        return _record_out(session)

    @documented_scope(blp, WRITE)
    @blp.doc(operationId="recordRotaSession")
    @blp.arguments(schemas.RecordIn, example={"women_attended": 23, "new_women": 4, "agencies": [
        {"agency_id": 4, "attendance": "attended", "women_seen": 6}], "finalise": True})  # fmt: skip
    @blp.response(200, schemas.RecordOut)
    def put(self, data: dict[str, Any], session_id: int) -> Any:
        """Record the session once it has happened: counts only, never names. `finalise` locks it; a change
        after that needs a `reason`, kept with what the record said before."""
        actor = current_actor()
        session = queries.get_session(actor, existing_id(session_id))
        with unit_of_work():
            services.record_session(actor, session, data)
            return _record_out(session)


@blp.route("/rota/reliability")
class ReliabilityResource(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="rotaReliability")
    @blp.arguments(schemas.ReliabilityArgs, location="query")
    @blp.response(200, schemas.ReliabilityOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Per agency, over past sessions (default: the last 26 weeks): sessions it was down for, came to, and
        told us it could not come to. The host organisation's systems see every agency; a partner, its own."""
        end = args.get("to") or today()
        start = args.get("from_") or end - dt.timedelta(weeks=26)
        actor = current_actor()
        if actor.is_staff:
            ids = [args["agency_id"]] if "agency_id" in args else None
        else:
            if args.get("agency_id", actor.agency_id) != actor.agency_id:
                raise Denied("You may see your own agency's figures only.")
            ids = [actor.agency_id] if actor.agency_id is not None else []
        return queries.reliability(start, end, ids)


def feed_url(token: str) -> str:
    return url_for("rota.calendar_feed", token=token, _external=True)


@blp.route("/calendar-feeds")
class Feeds(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="listCalendarFeeds")
    @blp.response(200, schemas.FeedListOut(many=True))
    def get(self) -> Any:
        """Live feeds (a partner: its own agency's). Their addresses were shown once, when made."""
        return queries.feeds_of(current_actor())

    @documented_scope(blp, WRITE)
    @blp.doc(operationId="createCalendarFeed")
    @blp.arguments(schemas.FeedIn, example={"agency_id": 4})
    @blp.response(201, schemas.FeedOut)
    def post(self, data: dict[str, Any]) -> Any:
        """A private calendar address for an agency (its slots and forum meetings), or with no `agency_id` for the
        whole rota (the host organisation's). A partner: its own agency only. The address is shown only now."""
        actor = current_actor()
        with unit_of_work():
            feed, token = services.create_feed(actor, data.get("agency_id"))
            return {"id": feed.id, "url": feed_url(token), "agency_id": feed.agency_id}


@blp.route("/calendar-feeds/<int:feed_id>")
class FeedResource(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="revokeCalendarFeed")
    @blp.response(200, schemas.FeedListOut)
    def delete(self, feed_id: int) -> Any:
        """Revoke a feed: its address answers 404 from now on (and the feed is no longer listed)."""
        actor = current_actor()
        feed = queries.get_feed(actor, existing_id(feed_id))
        with unit_of_work():
            services.revoke_feed(actor, feed)
            return feed


def register(app: Flask) -> None:
    api.register_blueprint(blp)
    csrf.exempt(blp)
