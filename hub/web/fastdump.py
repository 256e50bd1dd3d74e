"""Output schemas dumped without marshmallow's per-value machinery, to the same JSON.

The API's response schemas stay marshmallow schemas (they document the API and are its contract);
this only makes dumping them cheaper. For each field of a plain kind (integers, strings, booleans,
dates, times, enums, lists of those, nested schemas) it precomputes the conversion marshmallow would
apply; any other field, any value missing from the object, and any schema with dump hooks go
through marshmallow itself. ``tests/hub/test_fastdump.py`` checks, for every response schema the API
registers, that both give the same output.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

Convert = Callable[[Any], Any]
Dump = Callable[..., Any]

SPED_UP: list[ma.Schema] = []  # every schema given a compiled dump (for the test that compares them)


def _plain(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def _boolean(field: fields.Boolean) -> Convert:
    truthy, falsy = field.truthy, field.falsy

    def convert(value: Any) -> Any:
        if value is None:
            return None
        try:
            if value in truthy:
                return True
            if value in falsy:
                return False
        except TypeError:
            pass
        return bool(value)

    return convert


def _converter(field: fields.Field[Any]) -> Convert | None:
    """How this field turns a value into JSON, when it is a plain kind (exactly that class, not a
    subclass with its own rules); else None."""
    kind = type(field)
    if isinstance(field, fields.Integer) and kind is fields.Integer and not field.as_string:
        return _plain(int)
    if isinstance(field, fields.String) and kind is fields.String:
        return _plain(str)
    if isinstance(field, fields.Boolean) and kind is fields.Boolean:
        return _boolean(field)
    if isinstance(field, fields.Date) and kind is fields.Date and field.format in (None, "iso", "iso8601"):
        return _plain(dt.date.isoformat)
    if isinstance(field, fields.DateTime) and kind is fields.DateTime and field.format in (None, "iso", "iso8601"):
        return _plain(dt.datetime.isoformat)
    if isinstance(field, fields.Enum) and kind is fields.Enum and field.by_value and type(field.field) is fields.Raw:
        return _plain(lambda value: value.value if isinstance(value, enum.Enum) else field._serialize(value, "", None))
    if isinstance(field, fields.List) and kind is fields.List:
        inner = _converter(field.inner)
        if inner is None:
            return None
        return _plain(lambda value: [inner(each) for each in value])
    if isinstance(field, fields.Nested) and kind is fields.Nested and not field.many:
        nested = field.schema
        dump = compile_dump(nested) if not nested.many else None
        if dump is None:
            return None
        return _plain(dump)
    return None


def _value(obj: Any, key: str) -> Any:
    if type(obj) is dict:
        return obj.get(key, missing)
    return getattr(obj, key, missing)


def compile_dump(schema: ma.Schema) -> Dump | None:
    """A function dumping one object as ``schema.dump`` would, or None when the schema needs
    marshmallow's own path (dump hooks, ``only``/``exclude`` contexts, no plain fields)."""
    if schema._hooks.get(PRE_DUMP) or schema._hooks.get(POST_DUMP):
        return None
    plan: list[tuple[str, str, fields.Field[Any], Convert | None]] = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        plan.append((key, field.attribute or name, field, _converter(field)))

    def dump_one(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, attr, field, convert in plan:
            if convert is None:
                value = field.serialize(attr, obj, accessor=schema.get_attribute)
            else:
                value = _value(obj, attr)
                if value is missing:
                    value = field.serialize(attr, obj, accessor=schema.get_attribute)
                else:
                    value = convert(value)
            if value is not missing:
                out[key] = value
        return out

    return dump_one


def speed_up(schema: ma.Schema) -> ma.Schema:
    """Give this schema instance the compiled dump (for ``many`` too), keeping marshmallow's for
    anything it cannot compile. Returns the schema."""
    one = compile_dump(schema)
    if one is None:
        return schema
    original = schema.dump

    def dump(obj: Any, *, many: bool | None = None) -> Any:
        many = schema.many if many is None else many
        if many:
            return [one(each) for each in obj]
        return one(obj)

    schema.dump = dump  # type: ignore[method-assign]
    schema.marshmallow_dump = original  # type: ignore[attr-defined]
    SPED_UP.append(schema)
    return schema
