"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import flask_smorest
from flask import Flask, abort
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest.utils import resolve_schema_instance
from flask_wtf.csrf import CSRFProtect
from marshmallow import fields
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest

from hub.web import apidoc, fastdump, ratelimit
from hub.web.fields import FlexibleDate


class HubApi(Api):
    """flask-smorest, with errors rendered by :mod:`hub.web.errors` instead, documented as they are
    sent (:mod:`hub.web.apidoc`), and every API blueprint under the partner systems' rate limit
    (:mod:`hub.web.ratelimit`)."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # no catch-all "default": each operation lists its own errors

    def __init__(self) -> None:
        super().__init__(
            spec_kwargs={
                "marshmallow_plugin": apidoc.HubMarshmallowPlugin(),
                "extra_plugins": [apidoc.ErrorResponses()],
            }
        )

    def init_app(self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        # The document's version and front matter are this module's business (they replace any set before).
        app.config["OPENAPI_VERSION"] = apidoc.OPENAPI_VERSION
        app.config["API_SPEC_OPTIONS"] = {"info": {"description": apidoc.DESCRIPTION}}
        super().init_app(app, spec_kwargs=spec_kwargs)
        apidoc.register_components(self.spec)
        ratelimit.init_app(app, app.extensions["hub_settings"])

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """As flask-smorest's, with the blueprint's readable ``tag`` in the document, and its
        endpoints under the per-client rate limit."""
        name = options.get("name", blp.name)
        tag = getattr(blp, "tag", None) or name
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(self, self._app, self.spec, name=name, parameters=parameters)
        self.spec.tag({"name": tag, "description": blp.description})
        ratelimit.limit_api_blueprint(self._app, blp)

    def _register_responses(self) -> None:
        pass  # apidoc.register_components registers them as problem documents

    def _register_error_handlers(self) -> None:
        pass


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class IsoDate(fields.Date):
    """A date in an API body: ``YYYY-MM-DD`` only (the HTML forms also take D/M/YYYY)."""

    default_error_messages = {"invalid": "Enter a real date, as YYYY-MM-DD (for example 2026-03-27)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.date:
        if not isinstance(value, str) or not ISO_DATE.match(value):
            raise self.make_error("invalid")
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc


_API_SCHEMAS: dict[type, type] = {}


def api_schema(schema: Any) -> Any:
    """The schema an API endpoint reads: the same as the form's, with dates as ``YYYY-MM-DD`` only."""
    cls: Any = schema if isinstance(schema, type) else type(schema)
    dates = {name: f for name, f in cls._declared_fields.items() if isinstance(f, FlexibleDate)}
    if not dates:
        return schema
    if cls not in _API_SCHEMAS:
        strict: dict[str, Any] = {}
        for name, field in dates.items():
            iso: Any = copy.deepcopy(field)
            iso.__class__ = IsoDate
            iso.error_messages = {**iso.error_messages, "invalid": IsoDate.default_error_messages["invalid"]}
            strict[name] = iso
        _API_SCHEMAS[cls] = type(cls.__name__, (cls,), {**strict, "__doc__": cls.__doc__, "__module__": cls.__module__})
    derived = _API_SCHEMAS[cls]
    return derived if isinstance(schema, type) else derived(many=schema.many)


def _unstorable(*values: Any) -> bool:
    """Whether any text in these (nested) JSON values holds a NUL character or
    an unpaired surrogate, neither of which PostgreSQL can store."""
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate, from a JSON escape such as "\ud800"
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


class HubParser(FlaskParser):
    """webargs' parser, strict about request bodies: a JSON object or a clear 4xx.

    Out of the box, a body that is empty or not JSON reads as ``{}`` (so a
    PATCH "succeeds" doing nothing), and JSON nested too deeply, or with an
    integer too long for Python to read, is a 500. Text PostgreSQL cannot
    store (NUL, unpaired surrogates) is refused here too. A schema whose
    class sets ``BODY_OPTIONAL = True`` (every field optional) also accepts
    no body at all; any body it does get is held to the same rules.
    """

    def load_json(self, req: Any, schema: Any) -> Any:
        # An action with nothing to say (POST .../acknowledge) may send no body at all. (Not just
        # "get_data() is empty": a form body has been read into request.form by then, leaving it so.)
        if getattr(schema, "BODY_OPTIONAL", False) and not req.content_length and not req.get_data(cache=True):
            return {}
        if not is_json_request(req):
            abort(415, description="Send the request body as JSON, with Content-Type: application/json.")
        if not req.get_data(cache=True):
            abort(400, description="The request body is empty: send a JSON object.")
        try:
            data = super().load_json(req, schema)
        except RecursionError:
            abort(400, description="The request body is not valid JSON: it is nested too deeply.")
        except ValueError:  # not a JSONDecodeError (webargs handles those): an integer of over 4300 digits
            abort(400, description="The request body is not valid JSON: it has a number too long to read.")
        if isinstance(data, dict) and (bad := sorted(k for k, v in data.items() if _unstorable(k, v))):
            error = BadRequest(
                description="The request has text the hub cannot store: a NUL character or an unpaired surrogate."
            )
            # webargs reads field errors from ``data``, which werkzeug's exceptions do not declare.
            error.data = {  # type: ignore[attr-defined]
                "messages": {name: ["Remove the NUL character or unpaired surrogate."] for name in bad}
            }
            raise error
        return data

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        abort(400, description="The request body is not valid JSON.")


class ApiBlueprint(flask_smorest.Blueprint):
    """The blueprint every API package builds on: bodies are read by :class:`HubParser`, and
    response schemas dump through :mod:`hub.web.fastdump` (the same JSON, for less)."""

    ARGUMENTS_PARSER = HubParser()

    def __init__(self, *args: Any, tag: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tag = tag  # the operations' group in the OpenAPI document (else the blueprint's name)

    def route(self, rule: str, *, parameters: Any = None, tags: Any = None, **options: Any) -> Any:
        return super().route(rule, parameters=parameters, tags=tags or ([self.tag] if self.tag else None), **options)

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        return super().arguments(api_schema(schema), *args, **kwargs)

    def response(self, status_code: Any, schema: Any = None, **kwargs: Any) -> Any:
        if schema is not None:
            schema = fastdump.speed_up(resolve_schema_instance(schema))
        return super().response(status_code, schema, **kwargs)


login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
api = HubApi()
