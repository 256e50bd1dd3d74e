"""The OpenAPI document as partner developers meet it: errors as they are sent, scopes, OAuth.

flask-smorest and apispec build the document from the API's views and marshmallow schemas; this
module adds, once for every operation, what the views do not say themselves:

- every error an operation can answer, as the problem document (RFC 9457,
  ``application/problem+json``) that :mod:`hub.web.errors` really sends (:class:`ErrorResponses`);
- response schemas (:class:`ResponseSchema`) whose fields are all ``required``: each is always
  present, null where the schema says so, and more may be added (no ``additionalProperties: false``);
- the OAuth 2.0 scheme with every scope described, and ``/oauth/token`` and ``/oauth/revoke``;
- the response headers the API sends (``X-Total-Count``, ``Retry-After`` ...).
"""

from __future__ import annotations

import http
from typing import Any

import marshmallow as ma
from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields
from werkzeug.routing import Map, Rule

from hub.permissions import Scope

PROBLEM_CT = "application/problem+json"
OPENAPI_VERSION = "3.1.0"
METHODS = ("get", "put", "post", "delete", "patch")
WRITES = ("put", "post", "delete", "patch")

SCOPES: dict[str, str] = {
    Scope.DIRECTORY_READ: "Read the partner directory: agencies and their contacts.",
    Scope.DIRECTORY_WRITE: "Change the directory: agencies, contacts and leavers (a partner: its own agency only).",
    Scope.SERVICE_USERS_READ: "Read the women the host organisation supports, with their consents and "
    "disclosure history (host-organisation systems only).",
    Scope.SERVICE_USERS_WRITE: "Record a woman the host organisation supports (host-organisation systems only).",
    Scope.CONSENT_WRITE: "Record and withdraw her consent to share (host-organisation systems only).",
    Scope.REFERRALS_READ: "Read the referrals you may see; reading one with her details is logged as a disclosure.",
    Scope.REFERRALS_WRITE: "Create and send referrals (host organisation), and act on them: acknowledge, accept, "
    "decline, start, hold, resume, complete, cancel, message.",
    Scope.RELEASES_READ: "Read custody episodes, release plans and upcoming releases (host organisation; a "
    "partner sees only the releases her consent shares with it).",
    Scope.RELEASES_WRITE: "Record custody, change release dates, release plans and their referrals, and the "
    "release itself (host-organisation systems only).",
    Scope.ROTA_READ: "Read the drop-in rota: sessions, slots, gaps and standing commitments (a partner: who comes "
    "only for its own agency's slots), and reliability (a partner: its own).",
    Scope.ROTA_WRITE: "Take, confirm and give back drop-in slots and make standing commitments and calendar feeds (a "
    "partner: its own agency only); host systems also run sessions and record them.",
    Scope.FORUM_READ: "Read forums, meetings, agendas, cases by label (never who they are about, to a partner) and "
    "actions (a partner: the meetings its agency is on the register of, and its own actions).",
    Scope.FORUM_WRITE: "Give your agency's apologies and close its forum actions (a partner); host systems also run "
    "forums, meetings, cases, actions and minutes.",
    Scope.REPORTS_READ: "Read the reports: indicators and partnership figures, disclosure controlled unless the "
    "internal audience is asked for (host-organisation systems only; each answer is logged).",
    Scope.ADMIN: "List hub accounts: all of them for the host organisation, a partner's own otherwise.",
}

DESCRIPTION = """\
The partner-system API of the Partnership Hub: the directory of partner agencies, referrals between
the charity and its partners, and (for the charity's own systems) the women it supports and their
consent to share.

**Authentication.** OAuth 2.0 client credentials: `POST /oauth/token` with the client id and secret
as HTTP Basic and `grant_type=client_credentials` returns a bearer token (15 minutes). Send it as
`Authorization: Bearer …`. Each operation names the scope it needs.

**Errors** are problem documents (RFC 9457, `application/problem+json`) with `type`, `title`,
`status` and `detail`; `errors` maps each wrong field to its messages, and `missing` says what a
consent did not cover. 400 malformed, 401 no or bad token, 403 not allowed (or missing scope),
404 absent or not visible to you, 409 not allowed in the current state, 413 too large, 415 not
JSON, 422 valid JSON that breaks a rule, 429 too many requests (wait `Retry-After` seconds), 503
the hub cannot reach its database for a moment (retry after `Retry-After`).

**Conventions.** Field names are snake_case; dates are `YYYY-MM-DD`; times ISO 8601 in UTC. Lists
are JSON arrays, paged with `page` and `per_page` (at most 200), with the total in
`X-Total-Count`. Every field of an answer is always present (null where it says so); new fields
may be added, so ignore those you do not know.

**Rate limits.** Each partner system has one budget for all its API calls, and token requests are
limited per address: over it, 429 with `Retry-After`.
"""

STATUS_DESCRIPTIONS = {
    400: "Malformed: the body is not valid JSON (or is empty), or the request holds a NUL character.",
    401: "No bearer token, or one that is unknown, expired or revoked (see `WWW-Authenticate`).",
    403: "The token lacks the scope (`error: insufficient_scope`), or you may see this but not do it.",
    404: "Absent, or not visible to you: the two look the same.",
    409: "Not allowed in the current state (for example acknowledging twice, or a contact who has left).",
    413: "The request body is larger than 2 MB.",
    415: "The request body is not JSON: send it with `Content-Type: application/json`.",
    422: "Valid JSON that breaks a rule: unknown, missing or invalid fields (`errors`), or a basis for "
    "sharing that does not cover the request (`missing`).",
    429: "Too many requests: wait for the number of seconds in `Retry-After`.",
    503: "The hub cannot reach its database just now: retry after the seconds in `Retry-After`.",
}

HEADERS: dict[str, dict[str, Any]] = {
    "X-Total-Count": {
        "description": "How many items the whole list holds (counted up to 1,000 where "
        "`X-Total-Count-Capped` says so).",
        "schema": {"type": "integer", "minimum": 0},
        "required": True,
    },
    "X-Total-Count-Capped": {
        "description": "`true` when there are more than 1,000 items and `X-Total-Count` says 1000: page on.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this answers a retry with an `Idempotency-Key` already used: nothing new was "
        "created, and the body is the referral the first request created, as it is now.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
        "required": True,
    },
    "WWW-Authenticate": {
        "description": 'The bearer-token error (RFC 6750), such as `Bearer error="invalid_token"`.',
        "schema": {"type": "string"},
    },
}
STATUS_HEADERS = {401: {"WWW-Authenticate": "WWW-Authenticate"}, 429: {"Retry-After": "Retry-After"}}
STATUS_HEADERS[503] = STATUS_HEADERS[429]


class ResponseSchema(ma.Schema):
    """The base of every response (``*Out``) schema: the document lists each field as ``required``
    (always present, null where the field allows it) and allows fields to be added later."""

    class Meta:
        unknown = ma.EXCLUDE  # no "additionalProperties: false": answers may gain fields


class Missing(ma.Schema):
    """What a basis for sharing did not cover (only to the host organisation)."""

    data_categories = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "The kinds of information asked for that no valid basis covers."},
    )
    agency = fields.String(metadata={"description": "Present when no valid basis names this agency at all."})
    purpose = fields.String(metadata={"description": "Present when no valid basis covers this purpose."})


class Problem(ma.Schema):
    """A problem document (RFC 9457), as every error of the API and OAuth endpoints is sent."""

    class Meta:
        unknown = ma.INCLUDE  # extension members may be added

    type = fields.String(
        required=True,
        metadata={
            "format": "uri",
            "description": "Identifies the kind of problem: `…/problems/<status>`, or `…/problems/<OAuth error>`.",
        },
    )
    title = fields.String(required=True, metadata={"description": "A short, fixed summary of the kind of problem."})
    status = fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    detail = fields.String(required=True, metadata={"description": "What went wrong this time, in words."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        metadata={
            "description": "Field errors: each wrong field's name and its messages (a list, or for a list "
            "field an object by position)."
        },
    )
    missing = fields.Nested(Missing, metadata={"description": "What a consent or safeguarding decision lacked."})
    error = fields.String(
        metadata={"description": "The OAuth 2.0 error code (`invalid_token`, `insufficient_scope`, `invalid_client`…)."}
    )
    error_description = fields.String(metadata={"description": "Authlib's words for the OAuth error."})
    incident = fields.String(metadata={"description": "For a 500 only: quote it when reporting the problem."})


class HubMarshmallowPlugin(MarshmallowPlugin):
    """apispec's marshmallow plugin, listing every field of a response schema as required and
    giving enums their type (so a nullable enum reads ``type: [string, "null"]``)."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        assert self.converter is not None
        self.converter.add_attribute_function(_enum_type)  # type: ignore[no-untyped-call]
        self.map_to_openapi_type(fields.Url, "string", "uri")  # type: ignore[no-untyped-call]  # not "url"

    def schema_helper(self, name: str, _: Any, schema: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        json_schema = super().schema_helper(name, _, schema=schema, **kwargs)  # type: ignore[no-untyped-call]
        instance = schema() if isinstance(schema, type) else schema
        if isinstance(instance, ResponseSchema) and json_schema is not None:
            json_schema["required"] = sorted(json_schema.get("properties", {}))
        return json_schema


def _enum_type(self: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    if isinstance(field, fields.Enum) and "type" not in ret and "enum" in ret:
        values = [v for v in ret["enum"] if v is not None]
        if all(isinstance(v, str) for v in values):
            return {"type": ["string", "null"] if None in ret["enum"] else "string"}
    return {}


def statuses_of(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an API operation can answer, from what it takes."""
    statuses = {400, 429, 503}  # 400: a NUL character anywhere in the query, on any operation
    if operation.get("security"):
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {413, 415, 422}
    if any(isinstance(p, dict) and p.get("in") in {"query", "header"} for p in operation.get("parameters", [])):
        statuses.add(422)
    if method in WRITES:
        statuses.add(409)
    return statuses


class ErrorResponses(BasePlugin):
    """Document, on every API operation, each error status it can answer (as a problem document),
    and check every operation has an ``operationId``."""

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None, **_kw: Any) -> None:
        if not path or not path.startswith("/api/") or not operations:
            return
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            if "operationId" not in operation:
                raise ValueError(f"{method.upper()} {path} has no operationId: add @blp.doc(operationId=...)")
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses_of(path, method, operation)):
                if status not in responses and str(status) not in responses:
                    responses[status] = http.HTTPStatus(status).name
            operation["responses"] = {str(k): responses[k] for k in sorted(responses, key=lambda k: str(k))}


def register_components(spec: APISpec) -> None:
    """The problem responses, the headers, the OAuth scheme and endpoints."""
    spec.components.schema("Problem", schema=Problem)
    for name, header in HEADERS.items():
        spec.components.header(name, header)
    for status in http.HTTPStatus:
        if status < 400:
            continue
        response: dict[str, Any] = {
            "description": STATUS_DESCRIPTIONS.get(status, status.phrase),
            "content": {PROBLEM_CT: {"schema": Problem}},
        }
        if status in STATUS_HEADERS:
            response["headers"] = dict(STATUS_HEADERS[status])
        spec.components.response(status.name, response, lazy=True)
    spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "description": "OAuth 2.0 client credentials; the client authenticates with HTTP Basic.",
            "flows": {
                "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {str(k): v for k, v in SCOPES.items()}}
            },
        },
    )
    spec.components.security_scheme(
        "clientBasic",
        {
            "type": "http",
            "scheme": "basic",
            "description": "The client id and secret the hub administrator gave you (`hub create-client`).",
        },
    )
    _oauth_paths(spec)


TOKEN_EXAMPLE = {
    "access_token": "kT3mA9…",
    "token_type": "Bearer",
    "expires_in": 900,
    "scope": "directory:read referrals:read referrals:write",
}


def _form(properties: dict[str, Any], required: list[str], example: dict[str, str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": properties, "required": required},
                "example": example,
            }
        },
    }


def _rule(path: str) -> Rule:
    """A bound werkzeug rule for a path (flask-smorest's plugin reads paths from rules)."""
    rule = Rule(path, endpoint=path)
    Map([rule])
    return rule


def _oauth_paths(spec: APISpec) -> None:
    errors = {
        "400": "BAD_REQUEST",
        "401": "UNAUTHORIZED",
        "429": "TOO_MANY_REQUESTS",
        "503": "SERVICE_UNAVAILABLE",
    }
    spec.path(
        rule=_rule("/oauth/token"),
        operations={
            "post": {
                "operationId": "getToken",
                "tags": ["OAuth 2.0"],
                "summary": "Exchange your client credentials for a bearer token",
                "description": "OAuth 2.0 client-credentials grant (RFC 6749 §4.4). Authenticate with HTTP Basic "
                "only (credentials in the body are refused). Without `scope` the token carries every scope "
                "your client has; with it, those of the ones asked for that your client has. Failed client "
                "authentications from one address are throttled: 429 with `Retry-After`.",
                "security": [{"clientBasic": []}],
                "requestBody": _form(
                    {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "scope": {
                            "type": "string",
                            "description": "Space-separated scopes (optional).",
                            "example": "referrals:read referrals:write",
                        },
                    },
                    ["grant_type"],
                    {"grant_type": "client_credentials", "scope": "referrals:read referrals:write"},
                ),
                "responses": {
                    "200": {
                        "description": "A bearer token (never cached: `Cache-Control: no-store`).",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "access_token": {"type": "string"},
                                        "token_type": {"type": "string", "enum": ["Bearer"]},
                                        "expires_in": {"type": "integer", "description": "Seconds it lasts."},
                                        "scope": {"type": "string", "description": "Its scopes, space-separated."},
                                    },
                                    "required": ["access_token", "token_type", "expires_in", "scope"],
                                },
                                "example": TOKEN_EXAMPLE,
                            }
                        },
                    },
                    **errors,
                },
            }
        },
    )
    spec.path(
        rule=_rule("/oauth/revoke"),
        operations={
            "post": {
                "operationId": "revokeToken",
                "tags": ["OAuth 2.0"],
                "summary": "Revoke one of your tokens (RFC 7009)",
                "description": "At once: the token then answers 401. An unknown token is not an error.",
                "security": [{"clientBasic": []}],
                "requestBody": _form(
                    {
                        "token": {"type": "string", "description": "The access token to revoke."},
                        "token_type_hint": {"type": "string", "enum": ["access_token"]},
                    },
                    ["token"],
                    {"token": "kT3mA9…"},
                ),
                "responses": {
                    "200": {
                        "description": "Revoked (or unknown).",
                        "content": {"application/json": {"schema": {"type": "object"}, "example": {}}},
                    },
                    **errors,
                },
            }
        },
    )
    spec.tag({"name": "OAuth 2.0", "description": "Tokens for partner systems."})
