"""The forum's part of the open-work contract (:mod:`hub.work`).

- A partner contact holds the open actions they own, and the forums where
  they are a member agency's representative or deputy. When they leave,
  each moves to whoever takes over (the successor, else nobody: the action
  stays with its agency, whose key contact is then told of it, and the
  membership names nobody until the agency says who).
- One of our staff holds the forums they chair; offboarding names a
  colleague for each.

Items name the action's reference, its agency and due date, or the forum:
never a woman.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from forum.models import ActionStatus, Forum, ForumAction, ForumMember
from hub import audit
from hub.db import db
from hub.permissions import Actor
from hub.work import OpenWork, WorkItem

ACTIONS = "Forum actions they own"
MEMBERSHIPS = "Forums where they represent their agency"
CHAIRS = "Forums they chair"


def _owned(contact_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(ForumAction.owner_contact_id == contact_id, ForumAction.status == ActionStatus.OPEN)


def _represents(contact_id: int) -> sa.ColumnElement[bool]:
    return sa.or_(ForumMember.representative_contact_id == contact_id, ForumMember.deputy_contact_id == contact_id)


class ForumWork(OpenWork):
    def held_by_contact(self, contact_id: int) -> list[WorkItem]:
        actions = db.session.scalars(sa.select(ForumAction).where(_owned(contact_id)).order_by(ForumAction.due_on))
        items = [WorkItem(f"forum_action:{a.id}", ACTIONS, f"{a.reference}, due {a.due_on:%-d %B %Y}",
                          f"/forum/actions/{a.id}") for a in actions]  # fmt: skip
        rows = db.session.execute(
            sa.select(ForumMember.id, Forum.id, Forum.name).join(Forum, Forum.id == ForumMember.forum_id)
            .where(_represents(contact_id)).order_by(Forum.name))  # fmt: skip
        return items + [WorkItem(f"forum_member:{mid}", MEMBERSHIPS, name, f"/forum/forums/{fid}")
                        for mid, fid, name in rows]  # fmt: skip

    def move_contact_work(self, actor: Actor, contact_id: int, takeover_contact_id: int | None) -> int:
        actions = list(db.session.scalars(sa.select(ForumAction).where(_owned(contact_id))))
        for action in actions:
            action.owner_contact_id = takeover_contact_id
            audit.record(actor, "forum_action.reassigned", action, from_contact_id=contact_id,
                         to_contact_id=takeover_contact_id)  # fmt: skip
        members = list(db.session.scalars(sa.select(ForumMember).where(_represents(contact_id))))
        for member in members:
            if member.representative_contact_id == contact_id:
                member.representative_contact_id = takeover_contact_id
            if member.deputy_contact_id == contact_id:
                member.deputy_contact_id = takeover_contact_id
            if member.deputy_contact_id == member.representative_contact_id:
                member.deputy_contact_id = None
            audit.record(actor, "forum.member_readdressed", member, from_contact_id=contact_id,
                         to_contact_id=takeover_contact_id)  # fmt: skip
        db.session.flush()
        return len(actions) + len(members)

    def held_by_staff(self, user_id: int) -> list[WorkItem]:
        forums = db.session.scalars(sa.select(Forum).where(Forum.chair_user_id == user_id).order_by(Forum.name))
        return [WorkItem(f"forum_chair:{f.id}", CHAIRS, f.name, f"/forum/forums/{f.id}") for f in forums]

    def hand_over_staff(self, actor: Actor, leaver_id: int, takers: Mapping[str, int]) -> int:
        moved = 0
        for forum in db.session.scalars(sa.select(Forum).where(Forum.chair_user_id == leaver_id)):
            taker = takers.get(f"forum_chair:{forum.id}")
            if taker is None:
                continue
            forum.chair_user_id = taker
            audit.record(actor, "forum.chair_handed_over", forum, from_user_id=leaver_id, to_user_id=taker)
            moved += 1
        db.session.flush()
        return moved
