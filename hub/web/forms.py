"""Reading HTML forms through marshmallow schemas, and showing their errors.

Empty fields become "not given", so optional fields can be left blank; the
CSRF token and buttons are not part of the data. Errors come back as an
ordered mapping of field name to messages, for the error summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import abort
from werkzeug.datastructures import MultiDict

from hub.db import MAX_ID, unit_of_work
from hub.permissions import Invalid

IGNORED = {"csrf_token", "action"}


def path_id(value: str | None) -> int:
    """An id from the URL, written in ASCII digits PostgreSQL can hold; else 404."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > MAX_ID:
        abort(404)
    return int(value)


def form_data(form: MultiDict[str, str], list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """Form values as data: blanks dropped, digit strings in ``*_id`` and ``*_days`` fields as numbers."""
    data: dict[str, Any] = {}
    for key in form:
        if key in IGNORED:
            continue
        if key in list_fields:
            data[key] = [v for v in form.getlist(key) if v.strip()]
            continue
        value = form.get(key, "").strip()
        if value == "":
            continue
        is_number = value.isascii() and value.isdigit() and len(value) <= 10  # not "²", which int() refuses
        data[key] = int(value) if key.endswith(("_id", "_days")) and is_number else value
    return data


_YES_NO = {"yes": True, "no": False}


def _form_booleans(schema: ma.Schema, raw: dict[str, Any]) -> dict[str, Any]:
    """Radios send "yes"/"no"; boolean fields take only true and false (as JSON does)."""
    data = dict(raw)
    for name, field in schema.fields.items():
        key = field.data_key or name
        if isinstance(field, ma.fields.Boolean) and isinstance(data.get(key), str) and data[key].lower() in _YES_NO:
            data[key] = _YES_NO[data[key].lower()]
    return data


def load_form(
    schema: ma.Schema, form: MultiDict[str, str], list_fields: tuple[str, ...] = ()
) -> tuple[dict[str, Any] | None, dict[str, list[str]], dict[str, Any]]:
    """Validate a form. Returns (clean data or None, errors, raw values to refill the form)."""
    raw = form_data(form, list_fields)
    try:
        return schema.load(_form_booleans(schema, raw)), {}, raw
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        errors = {str(k): _flat(v) for k, v in messages.items()}
        return None, errors, raw


def _flat(messages: Any) -> list[str]:
    """A field's messages as a flat list: list fields nest theirs by item index."""
    if isinstance(messages, dict):
        return list(dict.fromkeys(m for inner in messages.values() for m in _flat(inner)))
    if isinstance(messages, list | tuple):
        return [m for inner in messages for m in _flat(inner)]
    return [str(messages)]


def submit(
    schema: ma.Schema,
    form: MultiDict[str, str],
    action: Callable[[dict[str, Any]], Any],
    list_fields: tuple[str, ...] = (),
) -> tuple[Any, dict[str, list[str]], dict[str, Any]]:
    """Load a form and run the service on it in one unit of work.

    Returns (the service's result or None, errors, raw values to refill the
    form); a rule the service enforces (:class:`Invalid`) comes back as form
    errors, with nothing changed.
    """
    data, errors, raw = load_form(schema, form, list_fields)
    if data is None:
        return None, errors, raw
    try:
        with unit_of_work():
            return action(data), {}, raw
    except Invalid as exc:
        return None, exc.errors or {"_schema": [exc.detail]}, raw
