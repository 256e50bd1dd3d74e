"""The agenda builds itself, in the order the forum takes it:

1. the standing items of the forum;
2. action review: every action raised at an earlier meeting and still open
   (carried forward until closed, never dropped), and those closed since the
   last meeting;
3. the cases nominated, by label, each with whether it is a repeat (heard
   in the 12 months before) and which agencies may hear it and which leave
   the room for it;
4. suggestions from the rest of the hub (:mod:`hub.suggestions`): referrals
   past their deadline by agency, releases soon with gaps in the plan, rota
   gaps and non-attendance, agencies whose knowledge rests on one person.

Nothing on it names a woman. It is built in a fixed number of statements,
whatever the number of cases and actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forum import audience, queries
from forum.models import Forum, Meeting
from hub import suggestions
from hub.db import london_date, today

OPTIONAL = ("action_id", "case_id", "label", "repeat", "audience_agency_ids", "excluded_agency_ids", "agency_id",
            "status", "due_on", "overdue", "source")  # fmt: skip


@dataclass
class Item:
    kind: str  # standing action_review case suggestion
    title: str
    detail: str = ""
    link: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Every field of every kind, null where it does not apply (the API's AgendaItemOut)."""
        return {**dict.fromkeys(OPTIONAL), "kind": self.kind, "title": self.title, "detail": self.detail,
                "link": self.link, **self.extra}  # fmt: skip


def build(meeting: Meeting, forum: Forum) -> list[Item]:
    items = [Item("standing", text) for text in forum.standing_items]
    for action in queries.carried_actions(meeting):
        raised = london_date(action.meeting.starts_at)
        state = f"due {action.due_on:%-d %B %Y}" if action.is_open else action.status.label.lower()
        items.append(Item("action_review", f"Action {action.reference}: {action.agency.name}",
                          f"Agreed on {raised:%-d %B %Y}; {state}.", f"/forum/actions/{action.id}",
                          {"action_id": action.id, "agency_id": action.agency_id, "status": action.status.value,
                           "due_on": action.due_on.isoformat(),
                           "overdue": action.is_open and action.due_on < london_date(meeting.starts_at)}))  # fmt: skip
    cases = queries.cases_of(meeting.id)
    heard = audience.of_case_meeting(meeting, cases)
    names = queries.agencies(a for h in heard.values() for a in h.included + h.excluded)
    for case in cases:
        hearing = heard[case.id]
        detail = "May hear it: " + (", ".join(names[a].name for a in hearing.included) or "none")
        if hearing.excluded:
            detail += ". Leave the room for it: " + ", ".join(names[a].name for a in hearing.excluded)
        items.append(Item("case", f"Case {case.label}" + (" (repeat: heard in the last 12 months)" if case.repeat
                                                          else ""), detail, f"/forum/cases/{case.id}",
                          {"case_id": case.id, "label": case.label, "repeat": case.repeat,
                           "audience_agency_ids": hearing.included,
                           "excluded_agency_ids": hearing.excluded}))  # fmt: skip
    members = [m.agency_id for m in queries.members_of(forum.id)]
    # Before the meeting, what stands today; afterwards, what stood on its day.
    for s in suggestions.gather(members, min(today(), london_date(meeting.starts_at))):
        items.append(Item("suggestion", s.title, s.detail, s.link,
                          {"source": s.source, "agency_id": s.agency_id}))  # fmt: skip
    return items
