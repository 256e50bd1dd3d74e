"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import abort
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest.utils import resolve_schema_instance
from flask_wtf.csrf import CSRFProtect
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest

from hub.web import fastdump


class HubApi(Api):
    """flask-smorest, with errors rendered by :mod:`hub.web.errors` instead."""

    def _register_error_handlers(self) -> None:
        pass


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

    def response(self, status_code: Any, schema: Any = None, **kwargs: Any) -> Any:
        if schema is not None:
            schema = fastdump.speed_up(resolve_schema_instance(schema))
        return super().response(status_code, schema, **kwargs)


login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
api = HubApi()
