"""The forum's JSON API (``/api/v1/forums``, ``/api/v1/meetings``, ``/api/v1/forum-actions``).

- With ``forum:read`` a partner system sees the forums its agency is a
  member of and the meetings its agency is on the register of, with cases
  by label only; with ``forum:write`` it gives its own agency's apologies
  and closes its own agency's actions. Any other answers 404.
- The host organisation's systems act as a manager: forums, meetings,
  cases (with ``service_user_id`` and ``reason``), actions and minutes.
- An API client is never "a signed-in member of a case's audience": a case
  never names her to a partner system, and the text of an action about a
  case its agency may not hear is null.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView

from forum import agenda, audience, queries, schemas, services
from forum.audience import Audience
from forum.models import ForumAction, ForumCase, Meeting
from hub.db import db, existing_id, unit_of_work
from hub.extensions import ApiBlueprint, api, csrf
from hub.permissions import Actor, Scope
from hub.web.guards import current_actor, documented_scope

blp = ApiBlueprint(
    "forum_api",
    __name__,
    url_prefix="/api/v1",
    description="The multi-agency forum: forums and member agencies, meetings, the register, cases heard only by "
    "the agencies her consent (or a safeguarding decision) allows, actions carried until closed, and minutes "
    "locked once agreed.",
    tag="Forum",
)
READ, WRITE = Scope.FORUM_READ.value, Scope.FORUM_WRITE.value


def forum_out(forum: Any) -> dict[str, Any]:
    out = {name: getattr(forum, name) for name in ("id", "name", "venue", "chair_user_id", "pattern", "agenda_days",
                                                   "minutes_days")}  # fmt: skip
    out["member_agency_ids"] = [m.agency_id for m in queries.members_of(forum.id)]
    return out


def case_out(actor: Actor, case: ForumCase, audience: Audience) -> dict[str, Any]:
    return {"id": case.id, "label": case.label, "repeat": case.repeat, "audience_agency_ids": audience.included,
            "excluded_agency_ids": audience.excluded,
            "service_user_id": case.service_user_id if actor.is_staff else None,
            "reason": case.reason if actor.is_staff else None}  # fmt: skip


def action_out(actor: Actor, action: ForumAction, heard: dict[int, Audience] | None = None) -> dict[str, Any]:
    out = {name: getattr(action, name) for name in schemas.ActionOut._declared_fields}
    if not actor.is_staff and action.case_id is not None:
        if heard is None or action.case_id not in heard:
            case = db.session.get_one(ForumCase, action.case_id)
            meeting = db.session.get_one(Meeting, case.meeting_id)
            heard = audience.of_case_meeting(meeting, [case])
        if not heard[action.case_id].hears(actor.agency_id):
            out["text"], out["close_note"] = None, None
    return out


def meeting_detail(actor: Actor, meeting: Meeting) -> dict[str, Any]:
    out = {name: getattr(meeting, name) for name in schemas.MeetingOut._declared_fields}
    out.update(confidentiality=meeting.confidentiality, confidentiality_read_at=meeting.confidentiality_read_at,
               minutes_agreed_at=meeting.minutes_agreed_at)  # fmt: skip
    out["attendance"] = [{name: getattr(line, name) for name in schemas.AttendanceOut._declared_fields}
                         for line in queries.register(meeting.id)]  # fmt: skip
    cases = queries.cases_of(meeting.id)
    heard = audience.of_case_meeting(meeting, cases)
    out["cases"] = [case_out(actor, c, heard[c.id]) for c in cases]
    out["actions"] = [action_out(actor, a, heard) for a in queries.actions_raised(meeting.id)]
    out["carried_action_ids"] = [a.id for a in queries.carried_actions(meeting)]
    return out


@blp.route("/forums")
class Forums(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="listForums")
    @blp.response(200, schemas.ForumOut(many=True))
    def get(self) -> Any:
        """The forums: every one for the host organisation; a partner's, those its agency belongs to."""
        return [forum_out(f) for f in queries.forums_for(current_actor())]

    @documented_scope(blp, WRITE)
    @blp.doc(operationId="createForum")
    @blp.arguments(schemas.ForumIn, example={"name": "Women's safeguarding forum", "member_agency_ids": [2, 3],
                                             "venue": "The Women's Centre"})  # fmt: skip
    @blp.response(201, schemas.ForumOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Set up a forum with its member agencies (the host organisation's systems; to a partner, 403)."""
        with unit_of_work():
            return forum_out(services.create_forum(current_actor(), data))


@blp.route("/forums/<int:forum_id>")
class ForumResource(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="getForum")
    @blp.response(200, schemas.ForumOut)
    def get(self, forum_id: int) -> Any:
        """One forum."""
        return forum_out(queries.get_forum(current_actor(), existing_id(forum_id)))


@blp.route("/forums/<int:forum_id>/meetings")
class ForumMeetings(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="listForumMeetings")
    @blp.response(200, schemas.MeetingOut(many=True))
    def get(self, forum_id: int) -> Any:
        """The forum's meetings, latest first (a partner: those its agency is on the register of)."""
        actor = current_actor()
        forum = queries.get_forum(actor, existing_id(forum_id))
        return queries.meetings_of(actor, forum.id)

    @documented_scope(blp, WRITE)
    @blp.doc(operationId="scheduleForumMeeting")
    @blp.arguments(schemas.MeetingIn, example={"starts_at": "2027-01-12T10:00:00+00:00"})
    @blp.response(201, schemas.MeetingOut)
    def post(self, data: dict[str, Any], forum_id: int) -> Any:
        """Schedule a meeting: every member agency is invited (409 if the forum meets at that time already)."""
        actor = current_actor()
        forum = queries.get_forum(actor, existing_id(forum_id))
        with unit_of_work():
            return services.schedule_meeting(actor, forum, data)


@blp.route("/meetings/<int:meeting_id>")
class MeetingResource(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="getForumMeeting")
    @blp.response(200, schemas.MeetingDetailOut)
    def get(self, meeting_id: int) -> Any:
        """A meeting with its register, its cases (by label, with their audiences) and the actions it agreed."""
        actor = current_actor()
        return meeting_detail(actor, queries.get_meeting(actor, existing_id(meeting_id)))


@blp.route("/meetings/<int:meeting_id>/agenda")
class MeetingAgenda(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="getForumAgenda")
    @blp.response(200, schemas.AgendaOut)
    def get(self, meeting_id: int) -> Any:
        """The agenda as it builds itself: standing items, open actions from earlier meetings (`action_review`),
        the cases by label, and suggestions from the rest of the hub."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        return {"meeting_id": meeting.id, "items": [i.as_json() for i in agenda.build(meeting, meeting.forum)]}


@blp.route("/meetings/<int:meeting_id>/agenda/send")
class MeetingAgendaSend(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="sendForumAgenda")
    @blp.response(200, schemas.MeetingOut)
    def post(self, meeting_id: int) -> Any:
        """Send the agenda now, as a link, to each agency on the register (409 once the meeting is held)."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        with unit_of_work():
            services.send_agenda(actor, meeting)
            return meeting


@blp.route("/meetings/<int:meeting_id>/hold")
class MeetingHold(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="holdForumMeeting")
    @blp.arguments(schemas.HoldIn, example={"confidentiality_read": True})
    @blp.response(200, schemas.MeetingOut)
    def post(self, data: dict[str, Any], meeting_id: int) -> Any:
        """Record the meeting as held, on its day, with the register complete and the confidentiality statement
        read: who heard each case is recorded, and the next meeting is planned."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        with unit_of_work():
            services.hold_meeting(actor, meeting, data)
            return meeting


@blp.route("/meetings/<int:meeting_id>/cancel")
class MeetingCancel(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="cancelForumMeeting")
    @blp.arguments(schemas.ForumReasonIn, example={"reason": "The venue is closed"})
    @blp.response(200, schemas.MeetingOut)
    def post(self, data: dict[str, Any], meeting_id: int) -> Any:
        """Cancel a meeting still to come; everyone invited is told; open actions carry to the next one."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        with unit_of_work():
            services.cancel_meeting(actor, meeting, data["reason"])
            return meeting


@blp.route("/meetings/<int:meeting_id>/attendance/<int:agency_id>")
class MeetingAttendanceLine(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="setForumAttendance")
    @blp.arguments(schemas.AttendanceIn, example={"status": "apologies", "information_sent": True})
    @blp.response(200, schemas.AttendanceOut)
    def put(self, data: dict[str, Any], meeting_id: int, agency_id: int) -> Any:
        """One line of the register (an agency not invited is added): every case's audience is recomputed.
        A partner answers for its own agency only."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        with unit_of_work():
            return services.set_attendance(actor, meeting, existing_id(agency_id), data)


@blp.route("/meetings/<int:meeting_id>/cases")
class MeetingCases(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="nominateForumCase")
    @blp.arguments(schemas.CaseIn, example={"service_user_id": 7, "reason": "Risk rising since her release"})
    @blp.response(201, schemas.CaseOut)
    def post(self, data: dict[str, Any], meeting_id: int) -> Any:
        """Nominate a woman (the host organisation only). Her audience is the invited or present agencies covered
        for `forum_discussion`; with none, 422 with `missing`."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        with unit_of_work():
            case, heard = services.nominate_case(actor, meeting, data)
            return case_out(actor, case, heard)


@blp.route("/forum-cases/<int:case_id>/withdraw")
class CaseWithdraw(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="withdrawForumCase")
    @blp.arguments(schemas.ForumReasonIn, example={"reason": "She asked us not to"})
    @blp.response(200, schemas.CaseOut)
    def post(self, data: dict[str, Any], case_id: int) -> Any:
        """Take a case off the agenda before the meeting (the host organisation only)."""
        actor = current_actor()
        case, meeting = queries.get_case(actor, existing_id(case_id))
        with unit_of_work():
            services.withdraw_case(actor, case, data["reason"])
            return case_out(actor, case, audience.of_case_meeting(meeting, [case])[case.id])


@blp.route("/meetings/<int:meeting_id>/actions")
class MeetingActions(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="addForumAction")
    @blp.arguments(schemas.ActionIn, example={"text": "Assess for emergency accommodation", "agency_id": 3,
                                              "due_on": "2027-01-26"})  # fmt: skip
    @blp.response(201, schemas.ActionOut)
    def post(self, data: dict[str, Any], meeting_id: int) -> Any:
        """Record an action the forum agreed (the host organisation only). About a case, its agency must be in the
        case's audience."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        with unit_of_work():
            return action_out(actor, services.add_action(actor, meeting, data))


@blp.route("/forum-actions")
class Actions(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="listForumActions")
    @blp.arguments(schemas.ActionListArgs, location="query")
    @blp.response(200, schemas.ActionOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Actions, latest due first: the host organisation's systems any agency's (`agency_id` to choose one); a
        partner's, its own agency's."""
        actor = current_actor()
        agency_id = args.get("agency_id") if actor.is_staff else actor.agency_id
        if not actor.is_staff and args.get("agency_id") not in (None, actor.agency_id):
            return []
        found = queries.agency_actions(agency_id, open_only=args.get("status") == "open")
        if args.get("status"):
            found = [a for a in found if a.status.value == args["status"]]
        return [action_out(actor, a) for a in found]


@blp.route("/forum-actions/<int:action_id>")
class ActionResource(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="getForumAction")
    @blp.response(200, schemas.ActionOut)
    def get(self, action_id: int) -> Any:
        """One action."""
        actor = current_actor()
        return action_out(actor, queries.get_action(actor, existing_id(action_id)))


@blp.route("/forum-actions/<int:action_id>/close")
class ActionClose(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="closeForumAction")
    @blp.arguments(schemas.CloseIn, example={"status": "done", "note": "Placed in emergency accommodation"})
    @blp.response(200, schemas.ActionOut)
    def post(self, data: dict[str, Any], action_id: int) -> Any:
        """Close an open action as `done`, `not_done_circumstances` or `not_done_agency` (409 if closed already)."""
        actor = current_actor()
        action = queries.get_action(actor, existing_id(action_id))
        with unit_of_work():
            return action_out(actor, services.close_action(actor, action, data["status"], data["note"]))


@blp.route("/forum-actions/<int:action_id>/refer")
class ActionRefer(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="referForumAction")
    @blp.arguments(schemas.ReferIn, example={"data_categories": ["identity", "housing"]})
    @blp.response(201, schemas.ActionOut)
    def post(self, data: dict[str, Any], action_id: int) -> Any:
        """Send an action about a case to its agency as a referral, through the consent gate (422 with `missing`)."""
        actor = current_actor()
        action = queries.get_action(actor, existing_id(action_id))
        with unit_of_work():
            services.refer_action(actor, action, data)
            return action_out(actor, action)


def minutes_out(meeting: Meeting) -> dict[str, Any]:
    return {"meeting_id": meeting.id, "text": meeting.minutes, "agreed": meeting.minutes_agreed_at is not None,
            "agreed_at": meeting.minutes_agreed_at, "circulated_at": meeting.minutes_circulated_at,
            "revisions": queries.revision_count(meeting.id)}  # fmt: skip


@blp.route("/meetings/<int:meeting_id>/minutes")
class Minutes(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="getForumMinutes")
    @blp.response(200, schemas.MinutesOut)
    def get(self, meeting_id: int) -> Any:
        """The minutes' record (case sections are read in the hub, by each case's audience)."""
        return minutes_out(queries.get_meeting(current_actor(), existing_id(meeting_id)))

    @documented_scope(blp, WRITE)
    @blp.doc(operationId="saveForumMinutes")
    @blp.arguments(schemas.MinutesIn, example={"text": "Present: ... Actions agreed: ..."})
    @blp.response(200, schemas.MinutesOut)
    def put(self, data: dict[str, Any], meeting_id: int) -> Any:
        """Save a new draft of the minutes, kept as a revision; 409 once they are agreed."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        with unit_of_work():
            notes = {c["case_id"]: c["text"] for c in data["cases"]}
            services.save_minutes(actor, meeting, data["text"], notes)
            return minutes_out(meeting)


@blp.route("/meetings/<int:meeting_id>/minutes/agree")
class MinutesAgree(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="agreeForumMinutes")
    @blp.response(200, schemas.MinutesOut)
    def post(self, meeting_id: int) -> Any:
        """Agree the minutes: locked from now on, and circulated (as access in the hub) if not yet."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        with unit_of_work():
            services.agree_minutes(actor, meeting)
            return minutes_out(meeting)


@blp.route("/meetings/<int:meeting_id>/minutes/circulate")
class MinutesCirculate(MethodView):
    @documented_scope(blp, WRITE)
    @blp.doc(operationId="circulateForumMinutes")
    @blp.response(200, schemas.MinutesOut)
    def post(self, meeting_id: int) -> Any:
        """Tell the agencies on the register that the minutes are ready to read in the hub."""
        actor = current_actor()
        meeting = queries.get_meeting(actor, existing_id(meeting_id))
        with unit_of_work():
            services.circulate_minutes(actor, meeting)
            return minutes_out(meeting)


def register(app: Flask) -> None:
    api.register_blueprint(blp)
    csrf.exempt(blp)
