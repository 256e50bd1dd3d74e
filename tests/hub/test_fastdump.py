"""Every API response schema dumps to the same JSON through hub.web.fastdump as through marshmallow:
partner systems must not see the faster path."""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from marshmallow import fields

from hub.web import fastdump
from rota.schemas import ClockTime


class Colour(enum.Enum):
    RED = "red"
    DARK_BLUE = "dark_blue"


def _values(field: fields.Field, depth: int = 0) -> list[Any]:
    """Values a view could hand this field: None, and a few of its kind."""
    if isinstance(field, fields.Nested):
        if depth > 2:
            return [None]
        return [None, *_objects(field.schema, depth + 1)[:3]]
    if isinstance(field, fields.List):
        inner = [v for v in _values(field.inner, depth) if v is not None]
        return [None, [], inner[:2]]
    if isinstance(field, fields.Enum):
        return [None, *list(field.enum)]
    if isinstance(field, fields.DateTime) and not isinstance(field, fields.Date):
        aware = dt.datetime(2026, 3, 27, 14, 5, 9, 123456, tzinfo=dt.UTC)
        return [None, aware, aware.replace(microsecond=0)]
    if isinstance(field, fields.Date):
        return [None, dt.date(2026, 3, 27)]
    if isinstance(field, ClockTime):
        return [None, dt.time(10), dt.time(9, 30)]
    if isinstance(field, fields.Boolean):
        return [None, True, False, 1, 0]
    if isinstance(field, fields.Integer):
        return [None, 0, 7, True]
    if isinstance(field, fields.Float | fields.Decimal):
        return [None, 1.5]
    if isinstance(field, fields.Dict):
        return [None, {"a": 1}]
    if isinstance(field, fields.String):
        return [None, "", "Referral R-1 (Hope House)", 12]
    return [None, "x", 3]


def _objects(schema: ma.Schema, depth: int = 0) -> list[Any]:
    """Objects and dicts covering every value of every field (and a field left out)."""
    fields_ = list(schema.dump_fields.items())
    choices = {name: _values(field, depth) for name, field in fields_}
    width = max((len(v) for v in choices.values()), default=1)
    out: list[Any] = []
    for i in range(width):
        row = {}
        for name, field in fields_:
            values = choices[name]
            row[field.attribute or name] = values[i % len(values)]
        out.append(row)
        out.append(SimpleNamespace(**row))
    if fields_:
        first = fields_[0][1].attribute or fields_[0][0]
        out.append({k: v for k, v in out[0].items() if k != first})
    return out


def test_every_api_response_schema_is_sped_up(app: Flask) -> None:
    assert len(fastdump.SPED_UP) >= 10, "the API's response schemas go through hub.web.fastdump"


def test_fast_dump_equals_marshmallow_for_every_response_schema(app: Flask) -> None:
    checked = 0
    for schema in fastdump.SPED_UP:
        plain = schema.marshmallow_dump  # type: ignore[attr-defined]
        objects = _objects(schema)
        dumped = []
        for obj in objects:
            try:
                single = plain(obj, many=False)
            except (AttributeError, TypeError, KeyError) as error:
                # A field computed from the object (fields.Function) that this made-up object
                # cannot answer: the fast path must fail the same way, not invent a value.
                with pytest.raises(type(error)):
                    schema.dump(obj, many=False)
                continue
            assert schema.dump(obj, many=False) == single, (type(schema).__name__, obj)
            dumped.append(obj)
            checked += 1
        assert schema.dump(dumped, many=True) == plain(dumped, many=True)
    assert checked > 50


@pytest.mark.parametrize(
    "field",
    [
        fields.Integer(),
        fields.String(),
        fields.Boolean(),
        fields.Date(),
        fields.DateTime(),
        fields.Enum(Colour, by_value=True),
        fields.Enum(Colour),
        fields.List(fields.String()),
        fields.Float(),
        fields.Integer(as_string=True),
        fields.DateTime(format="%d/%m/%Y"),
        fields.String(data_key="renamed"),
        fields.String(dump_default="standard"),
    ],
    ids=lambda f: type(f).__name__,
)
def test_each_kind_of_field_dumps_as_marshmallow_does(field: fields.Field) -> None:
    schema = ma.Schema.from_dict({"value": field, "id": fields.Integer()})()
    compiled = fastdump.compile_dump(schema)
    assert compiled is not None
    for value, shape in itertools.product(_values(field), (dict, SimpleNamespace)):
        obj = shape(value=value, id=1)
        assert compiled(obj) == schema.dump(obj), (value, shape)
    for obj in ({"id": 2}, SimpleNamespace(id=2)):  # the value left out
        assert compiled(obj) == schema.dump(obj)


def test_a_schema_with_dump_hooks_keeps_marshmallow() -> None:
    class Hooked(ma.Schema):
        name = fields.String()

        @ma.post_dump
        def _shout(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
            return {k: v.upper() for k, v in data.items()}

    assert fastdump.compile_dump(Hooked()) is None
    schema = fastdump.speed_up(Hooked())
    assert schema.dump({"name": "hope"}) == {"name": "HOPE"}
