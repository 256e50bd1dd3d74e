"""The OpenAPI document says what the API really does (API.md, "Errors"; issue 8).

- It is a valid OpenAPI 3.1 document; every operation has an ``operationId``, its scope, and every
  error status it can answer, each as the problem document (``application/problem+json``) that is
  really sent: real 400, 401, 403, 404, 409, 413, 415 and 422 answers validate against it.
- The OAuth 2.0 scheme lists every scope with a description; ``/oauth/token`` and ``/oauth/revoke``
  are in it.
- Response schemas list every field as required; input schemas mark theirs (``reason`` to decline,
  hold or cancel, as the server requires); every example matches its schema.
- Dates in the API are ``YYYY-MM-DD`` only; the HTML forms still take D/M/YYYY.
- ``/api/docs`` is a reference served by the hub itself (Swagger UI), without inline script.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from schemathesis.specs.openapi.definitions import OPENAPI_31

from agencies.models import AgencyKind
from hub.permissions import Scope
from tests.helpers import bearer, host_agency, make_agency, make_client, make_contact
from tests.referrals.world import build_world, referral_in

PROBLEM_CT = "application/problem+json"
METHODS = ("get", "post", "put", "patch", "delete")
# Error statuses every API operation can answer: a NUL in the query (400), no or a bad token (401),
# the wrong scope (403), the rate limit (429), the database out of reach (503).
ALWAYS = {"400", "401", "403", "429", "503"}


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items() if method in METHODS
    ]


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A JSON Schema validator for a schema of the document (its $refs resolved in the document)."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]}, validate_formats=True)


def assert_valid(spec: dict[str, Any], schema: dict[str, Any], instance: Any, what: str) -> None:
    errors = [f"{e.instance_path}: {e.message}" for e in validator(spec, schema).iter_errors(instance)]
    assert not errors, f"{what}: {errors}"


def test_it_is_a_valid_openapi_31_document(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    errors = [f"{e.instance_path}: {e.message}" for e in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(spec)]
    assert not errors, errors[:10]


def test_every_operation_has_a_unique_operation_id_and_a_tag(spec: dict[str, Any]) -> None:
    ids = [op.get("operationId") for _m, _p, op in operations(spec)]
    assert all(ids) and len(ids) == len(set(ids)), ids
    assert all(op.get("tags") for _m, _p, op in operations(spec))
    names = {tag["name"] for tag in spec["tags"]}
    assert {"Directory", "Referrals", "Service users and consent", "OAuth 2.0"} <= names


def test_every_api_operation_documents_each_error_it_can_answer(spec: dict[str, Any]) -> None:
    api = [(m, p, op) for m, p, op in operations(spec) if p.startswith("/api/")]
    assert len(api) >= 30
    for method, path, op in api:
        statuses = set(op["responses"])
        expected = set(ALWAYS)
        if "{" in path:
            expected.add("404")
        if "requestBody" in op:
            expected |= {"413", "415", "422"}
        if method != "get":
            expected.add("409")
        assert expected <= statuses, (method, path, expected - statuses)
        assert "default" not in statuses, (method, path)
        for status in statuses - {"200", "201"}:
            assert op["responses"][status] == {"$ref": f"#/components/responses/{_name(status)}"}, (path, status)


def _name(status: str) -> str:
    import http

    return http.HTTPStatus(int(status)).name


def test_error_responses_are_problem_documents(spec: dict[str, Any]) -> None:
    responses = spec["components"]["responses"]
    assert {"BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "UNPROCESSABLE_ENTITY"} <= set(
        responses
    )
    for name, response in responses.items():
        assert list(response["content"]) == [PROBLEM_CT], name
        assert response["content"][PROBLEM_CT]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "Retry-After" in responses["TOO_MANY_REQUESTS"]["headers"]
    assert "WWW-Authenticate" in responses["UNAUTHORIZED"]["headers"]
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["properties"]["status"]["type"] == "integer"
    assert {"errors", "missing", "error", "incident"} <= set(problem["properties"])
    assert "Error" not in spec["components"]["schemas"], "flask-smorest's own error schema is never sent"


def test_real_errors_match_the_documented_problem(client: FlaskClient, spec: dict[str, Any]) -> None:
    world = build_world(client)
    partner, host = world.headers("own"), world.headers("host")
    draft_id = referral_in(world, "draft")
    sent_id = referral_in(world, "sent")
    acknowledged_id = referral_in(world, "acknowledged")
    client.application.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    problem = {"$ref": "#/components/schemas/Problem"}
    answers = {
        400: client.post(
            f"/api/v1/referrals/{sent_id}/hold", data="{", headers={**partner, "Content-Type": "application/json"}
        ),
        401: client.get("/api/v1/referrals"),
        403: client.get("/api/v1/referrals", headers=world.headers("own", "directory:read")),
        404: client.get(f"/api/v1/referrals/{draft_id}", headers=partner),
        409: client.post(f"/api/v1/referrals/{acknowledged_id}/acknowledge", headers=partner),
        413: client.post(
            "/api/v1/referrals", data="x" * (2 * 1024 * 1024 + 1), headers={**host, "Content-Type": "application/json"}
        ),
        415: client.post(f"/api/v1/referrals/{sent_id}/decline", data={"reason": "no"}, headers=partner),
        422: client.post(f"/api/v1/referrals/{sent_id}/decline", json={}, headers=partner),
    }
    for status, response in answers.items():
        assert response.status_code == status, (status, response.get_data(as_text=True)[:300])
        assert response.mimetype == PROBLEM_CT, status
        assert_valid(spec, problem, response.json, f"the {status} answer")
    assert answers[422].json["errors"] == {"reason": ["Give a reason"]}
    # The 422 of a consent that does not cover the referral carries `missing`, documented too.
    uncovered = client.post(
        "/api/v1/referrals",
        json={
            "service_user_id": world.person.id,
            "agency_id": world.own.id,
            "data_categories": ["mental_health"],
            "reason": "Needs support",
        },
        headers=host,
    )
    assert uncovered.status_code == 201
    refused = client.post(f"/api/v1/referrals/{uncovered.json['id']}/send", headers=host)
    assert refused.status_code == 422 and "missing" in refused.json
    assert_valid(spec, problem, refused.json, "the 422 with missing")
    # Every 422 has the same title, whichever layer refused the request.
    assert refused.json["title"] == answers[422].json["title"] == "The request breaks a rule"


def test_the_oauth_scheme_lists_every_scope_and_the_token_endpoints_are_documented(spec: dict[str, Any]) -> None:
    flow = spec["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert set(flow["scopes"]) == {s.value for s in Scope}
    assert all(len(description) > 20 for description in flow["scopes"].values())
    for path in ("/oauth/token", "/oauth/revoke"):
        op = spec["paths"][path]["post"]
        form = op["requestBody"]["content"]["application/x-www-form-urlencoded"]
        assert form["schema"]["required"], path
        assert op["security"] == [{"clientBasic": []}]
        assert {"200", "400", "401", "429"} <= set(op["responses"]), path
    token = spec["paths"]["/oauth/token"]["post"]
    assert token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]["grant_type"][
        "enum"
    ] == ["client_credentials"]
    answer = token["responses"]["200"]["content"]["application/json"]
    assert set(answer["schema"]["required"]) == {"access_token", "token_type", "expires_in", "scope"}


def test_the_documented_token_answer_is_what_the_token_endpoint_sends(
    client: FlaskClient, spec: dict[str, Any]
) -> None:
    oauth_client, secret = make_client(make_agency(), "directory:read")
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(oauth_client.client_id, secret)
    )
    schema = spec["paths"]["/oauth/token"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert_valid(spec, schema, response.json, "the token answer")
    refused = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(oauth_client.client_id, "no")
    )
    assert refused.status_code == 401 and refused.mimetype == PROBLEM_CT
    assert_valid(spec, {"$ref": "#/components/schemas/Problem"}, refused.json, "a refused token request")


def test_response_schemas_list_every_field_as_required(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    outs = [name for name in schemas if name.endswith("Out")]
    assert {"AgencyOut", "ContactOut", "ReferralOut", "ConsentOut", "UserOut"} <= set(outs)
    for name in outs:
        schema = schemas[name]
        assert set(schema["required"]) == set(schema["properties"]), name
        assert "additionalProperties" not in schema, f"{name}: answers may gain fields"
    referral = schemas["ReferralOut"]["properties"]
    assert referral["service_user"]["anyOf"] == [{"$ref": "#/components/schemas/ReferralPersonOut"}, {"type": "null"}]
    assert referral["status"]["type"] == "string"
    assert schemas["ContactOut"]["properties"]["preferred_channel"]["type"] == ["string", "null"]


def test_input_schemas_require_what_the_server_requires(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["ReasonIn"]["required"] == ["reason"]
    for action in ("decline", "hold", "cancel"):
        body = spec["paths"][f"/api/v1/referrals/{{referral_id}}/{action}"]["post"]["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ReasonIn"}
    assert set(schemas["ReferralIn"]["required"]) == {"service_user_id", "agency_id", "data_categories", "reason"}
    assert schemas["LeaveIn"]["required"] == ["left_on"]
    assert schemas["ReasonIn"]["additionalProperties"] is False


@pytest.mark.parametrize("action", ["decline", "hold", "cancel"])
def test_a_blank_reason_is_refused_as_the_schema_says(client: FlaskClient, action: str) -> None:
    world = build_world(client)
    start = "accepted" if action == "hold" else "sent"
    referral_id = referral_in(world, start)
    who = "host" if action == "cancel" else "own"
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = client.post(f"/api/v1/referrals/{referral_id}/{action}", json=body, headers=world.headers(who))
        assert response.status_code == 422, (body, response.json)
        assert response.json["errors"] == {"reason": ["Give a reason"]}
    done = client.post(
        f"/api/v1/referrals/{referral_id}/{action}", json={"reason": "Moved away"}, headers=world.headers(who)
    )
    assert done.status_code == 200, done.json


def test_every_example_matches_its_schema(spec: dict[str, Any]) -> None:
    checked = 0
    for method, path, op in operations(spec):
        bodies = [
            (content, f"{method} {path} request") for content in op.get("requestBody", {}).get("content", {}).values()
        ]
        bodies += [
            (content, f"{method} {path} {status}")
            for status, response in op["responses"].items()
            for content in response.get("content", {}).values()
        ]
        for content, what in bodies:
            if "example" in content:
                assert_valid(spec, content["schema"], content["example"], what)
                checked += 1
    assert checked >= 25
    main = {
        "getToken",
        "listReferrals",
        "getReferral",
        "acknowledgeReferral",
        "createReferral",
        "listAgencies",
        "listContacts",
        "recordLeaver",
    }
    with_examples = {
        op["operationId"]
        for _m, _p, op in operations(spec)
        if any("example" in c for r in op["responses"].values() for c in r.get("content", {}).values())
    }
    assert main <= with_examples, main - with_examples


def test_headers_the_api_sends_are_declared(spec: dict[str, Any]) -> None:
    lists = spec["paths"]["/api/v1/referrals"]["get"]["responses"]["200"]["headers"]
    assert set(lists) == {"X-Total-Count", "X-Total-Count-Capped"}
    for path in ("/api/v1/agencies", "/api/v1/users"):
        assert "X-Total-Count" in spec["paths"][path]["get"]["responses"]["200"]["headers"]
    created = spec["paths"]["/api/v1/referrals"]["post"]["responses"]["201"]["headers"]
    assert "Idempotent-Replayed" in created
    assert set(spec["components"]["headers"]) >= {
        "X-Total-Count",
        "X-Total-Count-Capped",
        "Idempotent-Replayed",
        "Retry-After",
    }


def test_dates_in_the_api_are_iso_only_and_forms_still_take_day_first(
    client: FlaskClient, spec: dict[str, Any]
) -> None:
    host = host_agency()
    oauth_client, secret = make_client(host, "service-users:write directory:write directory:read")
    headers = bearer(client, oauth_client, secret)
    refused = client.post(
        "/api/v1/service-users",
        json={"given_name": "Ann", "family_name": "Example", "date_of_birth": "03/02/1990"},
        headers=headers,
    )
    assert refused.status_code == 422, refused.json
    assert "YYYY-MM-DD" in refused.json["errors"]["date_of_birth"][0]
    for bad in ("1990-2-3", "19900203", "1990-W05-6", "1990-02-30", 19900203):
        response = client.post(
            "/api/v1/service-users", json={"given_name": "A", "family_name": "B", "date_of_birth": bad}, headers=headers
        )
        assert response.status_code == 422, bad
    accepted = client.post(
        "/api/v1/service-users",
        json={"given_name": "Ann", "family_name": "Example", "date_of_birth": "1990-02-03"},
        headers=headers,
    )
    assert accepted.status_code == 201 and accepted.json["date_of_birth"] == "1990-02-03"
    contact = make_contact(make_agency(AgencyKind.HOUSING))
    left = client.post(f"/api/v1/contacts/{contact.id}/leave", json={"left_on": "1/12/2026"}, headers=headers)
    assert left.status_code == 422 and "YYYY-MM-DD" in left.json["errors"]["left_on"][0]
    # The same schemas read the HTML forms, where people type dates day first.
    from agencies.schemas import LeaveIn
    from consent.schemas import ServiceUserIn

    assert str(LeaveIn().load({"left_on": "1/12/2026"})["left_on"]) == "2026-12-01"
    assert (
        str(ServiceUserIn().load({"given_name": "A", "family_name": "B", "date_of_birth": "3/2/1990"})["date_of_birth"])
        == "1990-02-03"
    )
    assert spec["components"]["schemas"]["LeaveIn"]["properties"]["left_on"]["format"] == "date"


# /api/docs ------------------------------------------------------------------------------------


def test_the_docs_page_is_a_reference_served_by_the_hub(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-spec-url="/api/openapi.json"' in html
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)  # type: ignore[union-attr]
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    for attributes, body in scripts:
        src = re.search(r'src="([^"]+)"', attributes)
        if src is None:  # inline: only with this response's nonce, which the CSP allows
            assert f'nonce="{nonce}"' in attributes, attributes
            continue
        assert not body.strip()
        assert src.group(1).startswith("/static/"), "no CDN: everything from the hub itself"
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert "/static/swagger-ui/swagger-ui.css" in stylesheets
    for asset in (
        "/static/swagger-ui/swagger-ui-bundle.js",
        "/static/swagger-ui/swagger-ui.css",
        "/static/api-docs.js",
    ):
        with client.get(asset) as served:
            assert served.status_code == 200, f"{asset} is missing: run bin/setup"
            assert len(served.data) > 500, asset
            if asset.endswith("api-docs.js"):
                assert "SwaggerUIBundle" in served.get_data(as_text=True)
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # Without JavaScript, the page still lists every operation.
    assert "POST /api/v1/referrals/{referral_id}/acknowledge" in html
    assert "/api/v1/agencies" in html
