"""Reading HTML forms through marshmallow schemas, and showing their errors.

Empty fields become "not given", so optional fields can be left blank; the
CSRF token and buttons are not part of the data. Errors come back as an
ordered mapping of field name to messages, for the error summary.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from werkzeug.datastructures import MultiDict

IGNORED = {"csrf_token", "action"}


def form_data(form: MultiDict[str, str], list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """Form values as data: blanks dropped, ``*_id`` digit strings as numbers."""
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
        data[key] = int(value) if key.endswith("_id") and is_number else value
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
        errors = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in messages.items()}
        return None, errors, raw
