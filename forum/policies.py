"""Who may do what with the forum, named after the services they guard.

- Our managers set up forums (members, chair, the pattern of meetings) and
  schedule or cancel meetings; a forum's chair runs its meetings (the
  register, holding them, the minutes) as managers do.
- Our staff nominate cases and record actions; only our staff ever see who
  a case is about, and what it is for, unless the viewer's agency is in the
  case's audience at that moment (:mod:`forum.audience`).
- A partner sees only the meetings its agency is on the register of; it
  gives its own agency's apologies, and closes its own agency's actions.
"""

from __future__ import annotations

from forum.models import Forum, ForumAction
from hub.permissions import Actor, Role


def can_view_forums(actor: Actor) -> bool:
    return actor.role is not None


def can_manage_forums(actor: Actor) -> bool:
    return actor.is_staff and actor.is_manager


can_create_forum = can_edit_forum = can_set_member = can_remove_member = can_schedule_meeting = can_manage_forums


def can_view_cases(actor: Actor) -> bool:
    """Anyone signed in may ask; who each case is about shows only to our staff and its audience."""
    return actor.role is not None


def can_run_meeting(actor: Actor, forum: Forum) -> bool:
    """A manager, or the forum's chair (one of our staff)."""
    if can_manage_forums(actor):
        return True
    return actor.is_staff and actor.actor_kind == "user" and actor.actor_id == forum.chair_user_id


can_send_agenda = can_hold_meeting = can_cancel_meeting = can_add_observer = can_run_meeting
can_save_minutes = can_agree_minutes = can_circulate_minutes = can_run_meeting


def can_set_attendance(actor: Actor, forum: Forum, agency_id: int) -> bool:
    """Whoever runs the meeting, for any agency; a partner (or its system) for its own agency."""
    return can_run_meeting(actor, forum) or (not actor.is_staff and actor.agency_id == agency_id)


def can_nominate_case(actor: Actor) -> bool:
    return actor.is_staff


can_withdraw_case = can_add_action = can_refer_action = can_nominate_case


def can_close_action(actor: Actor, action: ForumAction) -> bool:
    """Our staff; the owning agency's lead, or its system."""
    if actor.is_staff:
        return True
    return actor.agency_id == action.agency_id and actor.role is Role.PARTNER_LEAD


can_reassign_action = can_close_action


def can_see_accountability(actor: Actor, agency_id: int | None) -> bool:
    """Every agency's actions: our staff; an agency's own: its lead."""
    return actor.is_staff or (agency_id is not None and actor.agency_id == agency_id and
                              actor.role is Role.PARTNER_LEAD)  # fmt: skip
