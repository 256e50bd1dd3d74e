"""The marshmallow fields and limits every package's schemas share.

One definition of each, so a rule changes in one place: text lengths, the id
range PostgreSQL can hold, true/false only for booleans, dates as people type
them, required fields whose error says what to do, and single-line text.

Invariant: a single-line field (a name, a role, a phone number) never holds a
control character (Unicode category Cc: line breaks, tabs, NUL, DEL ...) or a
line or paragraph separator (:mod:`hub.text`). Those values end up in email subjects, page
titles and CSV cells, where a line break can split a header or a row.
Multi-line fields (reasons, notes, addresses) use plain strings and keep their
line breaks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from hub.db import MAX_ID
from hub.text import has_control_characters

SHORT, MEDIUM, LONG = 160, 400, 5000
ID_RANGE = validate.Range(min=1, max=MAX_ID)
NOT_ONE_LINE = "Use letters, numbers and punctuation only: no line breaks or control characters"


class SingleLine(validate.Validator):
    """Refuse text with a line break or any other control character."""

    def __init__(self, error: str = NOT_ONE_LINE) -> None:
        self.error = error

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and has_control_characters(value):
            raise ma.ValidationError(self.error or NOT_ONE_LINE)
        return value


class SingleLineText(fields.String):
    """A one-line text field (a name, a role, a phone number): no control characters."""

    default_error_messages = {"control": NOT_ONE_LINE}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_control_characters(text):
            raise self.make_error("control")
        return text


class StrictBool(fields.Boolean):
    """JSON true or false only: not "yes", "true" or 1 (``1 in {True}`` is true
    in Python, so the ``truthy`` sets cannot say this). HTML forms send
    "yes"/"no", which :func:`hub.web.forms.load_form` turns into booleans first."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class FlexibleDate(fields.Date):
    """YYYY-MM-DD (the API), or D/M/YYYY as people type it in forms."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.date:
        if isinstance(value, str) and "/" in value:
            try:
                day, month, year = (int(p) for p in value.split("/"))
                return dt.date(year, month, day)
            except (ValueError, OverflowError) as exc:  # OverflowError: a year or day too big for C
                raise ma.ValidationError("Enter a real date, for example 27/3/2026") from exc
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ma.ValidationError as exc:
            raise ma.ValidationError("Enter a real date, for example 27/3/2026") from exc


def required(message: str) -> dict[str, Any]:
    """A required field whose error says what to do (GOV.UK style), not "Missing data for required field"."""
    return {"required": True, "error_messages": {"required": message, "null": message}}
