"""The OpenAPI document is valid, complete (every route, every error code) and true to what
the API answers; the docs pages load."""
import re
from datetime import date

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from app import create_app
from app.api.idempotency import HEADER
from app.config import PRODUCTION_REQUIRED, load_config
from app.errors import CATALOGUE
from app.extensions import db
from app.idempotency.models import MAX_KEY_LENGTH
from app.messaging.models import Message, OutboxEvent
from app.tasks.models import JobRun
from tests.api_routes import PUBLIC_PREFIX, error_of, routes
from tests.helpers import Caller

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def spec(app) -> dict:
    reply = Caller(app).get("/openapi.json")
    assert reply.status_code == 200
    return reply.json


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_the_document_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises on any violation of the OpenAPI 3 schema, including unresolved $refs


def test_every_api_route_is_documented_and_nothing_else(app, spec):
    """Read from the url_map: a route added later shows up in the docs, or this fails."""
    in_url_map = {(route.spec_path, route.method.lower()) for route in routes(app)}
    documented = {(path, method) for path, method, _ in operations(spec) if path.startswith("/api/v1/")}
    assert in_url_map, "no routes found: the enumeration is broken"
    assert documented == in_url_map


def test_every_error_code_is_listed_with_its_status_and_message(spec):
    assert spec["x-error-codes"] == {code: {"status": status, "message": message}
                                     for code, (status, message) in CATALOGUE.items()}
    description = spec["info"]["description"]
    for code, (status, message) in CATALOGUE.items():
        assert f"| `{code}` | {status} | {message} |" in description, code


def test_codes_are_stable_upper_snake_with_a_4xx_or_5xx_status(spec):
    for code, (status, message) in CATALOGUE.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", code), code
        assert 400 <= status < 600 and message, code


def _schema_at(spec: dict, ref: str) -> dict:
    node = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _deref(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        node = _schema_at(spec, node["$ref"])
    return node


def _envelope_ref(spec: dict, response: dict) -> str | None:
    content = _deref(spec, response).get("content", {}).get("application/json", {})
    return content.get("schema", {}).get("$ref")


def test_every_operation_documents_its_errors_with_the_envelope(spec):
    envelope = "#/components/schemas/ErrorEnvelope"
    for path, method, operation in operations(spec):
        responses = operation["responses"]
        assert _envelope_ref(spec, responses["default"]) == envelope, (path, method)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert _envelope_ref(spec, response) == envelope, (path, method, status)
    error = _deref(spec, _schema_at(spec, envelope)["properties"]["error"])
    assert {"code", "message", "details"} <= error["properties"].keys()


def test_operations_that_take_input_document_the_validation_error(spec):
    for path, method, operation in operations(spec):
        takes_input = "requestBody" in operation or any(
            param["in"] == "query" for param in operation.get("parameters", []))
        if takes_input:
            assert "422" in operation["responses"], (path, method)


def test_the_logins_need_no_token_and_everything_else_a_bearer_token(spec):
    """The document says which operations need `Authorization: Bearer` (the global default)."""
    assert spec["security"] == [{"bearer": []}]
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    for path, method, operation in operations(spec):
        if path.startswith(PUBLIC_PREFIX):
            assert operation.get("security") == [], (path, method)
        else:
            assert operation.get("security", spec["security"]) == [{"bearer": []}], (path, method)


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("GET", "/api/v1/member/card", {}),  # 401 AUTH_REQUIRED
    ("GET", "/api/v1/nothing-here", {}),  # 404 NOT_FOUND
    ("DELETE", "/api/v1/auth/member/login", {}),  # 405 METHOD_NOT_ALLOWED
    ("POST", "/api/v1/auth/member/login", {"json": {"code": 1, "extra": True}}),  # 422 with field details
    ("POST", "/api/v1/auth/member/login", {"data": "{", "content_type": "application/json"}),  # 400
])
def test_real_error_replies_match_the_documented_envelope(app, spec, method, path, kwargs):
    envelope = _schema_at(spec, "#/components/schemas/ErrorEnvelope")
    resolver_spec = {**envelope, "components": spec["components"]}
    reply = Caller(app).request(method, path, **kwargs)
    assert 400 <= reply.status_code < 500 and error_of(reply)[1] in CATALOGUE
    errors = [error.message for error in OAS30Validator(resolver_spec).iter_errors(reply.json)]
    assert errors == []
    assert set(reply.json) == {"error"} and set(reply.json["error"]) == {"code", "message", "details"}
    assert isinstance(reply.json["error"]["details"], dict)


def test_the_envelope_requires_code_message_and_details(spec):
    """As the README promises: a client may read error.details without checking it exists."""
    envelope = _schema_at(spec, "#/components/schemas/ErrorEnvelope")
    assert envelope["required"] == ["error"]
    assert set(_deref(spec, envelope["properties"]["error"])["required"]) == {"code", "message", "details"}


def _reply_errors(spec: dict, path: str, method: str, reply) -> list[str]:
    """What in the reply breaks the schema the document gives for its status."""
    response = spec["paths"][path][method]["responses"][str(reply.status_code)]
    validator = OAS30Validator({**response["content"]["application/json"]["schema"], "components": spec["components"]})
    return [error.message for error in validator.iter_errors(reply.json)]


def test_a_new_members_profile_matches_its_documented_schema(app, spec, world):
    """What a member has not given yet (nickname, birthday, phone) is null, and documented as nullable."""
    alice = world.member("alice")
    reply = alice.get("/api/v1/member/profile")
    assert reply.status_code == 200 and reply.json["nickname"] is None and reply.json["phone"] is None
    assert _reply_errors(spec, "/api/v1/member/profile", "get", reply) == []


def test_a_pending_message_and_a_running_job_match_their_documented_schemas(app, spec, world):
    """Not sent yet, not finished yet: their nulls are documented as nullable."""
    alice = world.member("alice")
    with app.app_context():
        event = OutboxEvent(kind="points_expiring", member_id=alice.member_id)
        db.session.add(event)
        db.session.flush()
        db.session.add_all([Message(event_id=event.id, member_id=alice.member_id, kind=event.kind, template_id="t",
                                    openid="o", data={}), JobRun(job="expire_points", business_date=date(2026, 6, 1))])
        db.session.commit()
    admin = world.admin()
    for path in ("/api/v1/admin/messages", "/api/v1/admin/job-runs"):
        reply = admin.get(path)
        assert reply.status_code == 200 and len(reply.json["items"]) == 1, path
        assert _reply_errors(spec, path, "get", reply) == [], path


DOCS_PAGES = ["/docs", "/redoc"]


def _assets(page_html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page_html)


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_the_docs_pages_answer_html(app, path):
    reply = Caller(app).get(path)
    assert reply.status_code == 200
    assert reply.mimetype == "text/html"
    assert "/openapi.json" in reply.get_data(as_text=True)


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_the_docs_pages_load_only_assets_the_app_serves(app, path):
    """No CDN: the pages work offline (and in mainland China)."""
    assets = _assets(Caller(app).get(path).get_data(as_text=True))
    assert assets and all(asset.startswith("/docs/assets/") for asset in assets), assets
    for asset in assets:
        reply = Caller(app).get(asset)
        assert reply.status_code == 200, asset
        assert reply.mimetype == {"js": "text/javascript", "css": "text/css"}[asset.rsplit(".", 1)[1]], asset
        assert len(reply.get_data()) > 100_000, asset  # the bundle, not a stub


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_the_docs_assets_load_nothing_from_another_host(app, path):
    """A script may name remote addresses (schema ids, links to click); what it loads itself
    (an image's or a script's src, a stylesheet's url()) must be local; links stay links."""
    for asset in _assets(Caller(app).get(path).get_data(as_text=True)):
        text = Caller(app).get(asset).get_data(as_text=True)
        assert not re.findall(r'src\s*[:=]\s*["\']https?://|url\(["\']?https?://', text), asset


def test_api_docs_0_turns_the_docs_pages_and_their_assets_off(app):
    docs_on = Caller(app)
    assets = [asset for path in DOCS_PAGES for asset in _assets(docs_on.get(path).get_data(as_text=True))]
    docs_off = Caller(create_app({"API_DOCS": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    for path in DOCS_PAGES + assets:
        assert docs_off.get(path).status_code == 404, path
    assert docs_off.get("/openapi.json").status_code == 200  # the contract itself stays


def test_the_docs_pages_are_off_by_default_in_production():
    production = {"MEMBERMALL_ENV": "production", **{name: "x" * 40 for name in PRODUCTION_REQUIRED}}
    assert load_config(production)["API_DOCS"] is False
    assert load_config({**production, "API_DOCS": "1"})["API_DOCS"] is True
    assert load_config({})["API_DOCS"] is True


def _reply_schemas(spec: dict):
    """(path, method, status, schema) of every documented JSON success reply."""
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            schema = _deref(spec, response).get("content", {}).get("application/json", {}).get("schema")
            if status.startswith("2") and schema is not None:
                yield path, method, status, _deref(spec, schema)


def test_every_list_answers_items_and_next_cursor_never_a_bare_array(spec):
    """One shape for a front end: a list is {items, next_cursor} (null where there is no next page).
    Read from the document, so an endpoint added later is held to it too."""
    bare = [(path, method) for path, method, _, schema in _reply_schemas(spec) if schema.get("type") == "array"]
    assert bare == []
    lists = [(path, method, schema) for path, method, _, schema in _reply_schemas(spec)
             if _deref(spec, schema.get("properties", {}).get("items", {})).get("type") == "array"]
    assert len(lists) >= 25, "no lists found: the walk is broken"
    for path, method, schema in lists:
        assert schema["properties"]["next_cursor"]["type"] == "integer", (path, method)


def test_every_operation_has_a_unique_operation_id_and_a_one_line_summary(spec):
    """Named centrally (app/api/blueprint.py), so a new endpoint has both without remembering:
    a generated client names its functions after the operationId."""
    ids = [operation.get("operationId") for _, _, operation in operations(spec)]
    assert None not in ids and len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", operation_id) for operation_id in ids), ids
    for path, method, operation in operations(spec):
        summary = operation.get("summary", "")
        assert summary.strip() and "\n" not in summary and len(summary) <= 120, (path, method, summary)


def _untyped(spec: dict, node: dict, where: str):
    """Where a schema's property (or its items) says neither a type nor a reference."""
    for name, prop in node.get("properties", {}).items():
        if not {"type", "$ref", "allOf", "oneOf", "anyOf"} & prop.keys():
            yield f"{where}.{name}"
        yield from _untyped(spec, prop, f"{where}.{name}")
        if isinstance(prop.get("items"), dict):
            yield from _untyped(spec, prop["items"], f"{where}.{name}[]")


def test_no_field_or_parameter_is_untyped(spec):
    untyped = [where for name, schema in spec["components"]["schemas"].items()
               for where in _untyped(spec, schema, name)]
    untyped += [f"{method} {path} {param['name']}" for path, method, operation in operations(spec)
                for param in operation.get("parameters", []) if "type" not in param.get("schema", {})]
    assert untyped == []


def test_a_state_is_documented_with_its_values(spec):
    states = [(name, prop.get("enum")) for name, schema in spec["components"]["schemas"].items()
              for field_name, prop in schema.get("properties", {}).items()
              if field_name.endswith("state") and prop.get("type") == "string"]
    assert len(states) >= 8, "no states found: the walk is broken"
    assert [name for name, enum in states if not enum] == []


# POSTs that write nothing a retry could repeat: a login's reply is a token, never stored; the rest
# only read (a code looked up, a coupon or a message rule previewed).
NOT_KEYED = {("post", "/api/v1/auth/member/login"), ("post", "/api/v1/auth/staff/login"),
             ("post", "/api/v1/auth/admin/login"), ("post", "/api/v1/staff/member-lookups"),
             ("post", "/api/v1/staff/coupon-previews"), ("post", "/api/v1/admin/message-rules/{kind}/preview")}


def _key_parameter(operation: dict) -> dict | None:
    found = [param for param in operation.get("parameters", []) if param["name"] == HEADER]
    assert len(found) <= 1
    return found[0] if found else None


def test_every_operation_that_changes_state_documents_the_idempotency_key_header(spec):
    writes = {(method, path) for path, method, _ in operations(spec) if method != "get"}
    keyed = {(method, path) for path, method, operation in operations(spec) if _key_parameter(operation)}
    assert NOT_KEYED <= writes and keyed == writes - NOT_KEYED
    for path, method, operation in operations(spec):
        if param := _key_parameter(operation):
            assert (param["in"], param["required"]) == ("header", False)
            assert param["schema"] == {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                                       "example": param["schema"]["example"]}
            named = set(re.findall(r"\b(IDEMPOTENCY_[A-Z_]+)", param["description"]))
            assert named == {"IDEMPOTENCY_KEY_INVALID", "IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_IN_FLIGHT"}
            assert named <= set(operation["x-error-codes"]), (method, path)
            assert "Idempotent-Replayed: true" in param["description"]


def test_a_replay_answers_as_the_key_parameter_says(spec, world):
    """The documented example key, sent twice: the first reply again, marked, and nothing written twice."""
    (param,) = [_key_parameter(spec["paths"]["/api/v1/member/profile"]["patch"])]
    alice, headers = world.member("alice"), {HEADER: param["schema"]["example"]}
    first = alice.patch("/api/v1/member/profile", json={"nickname": "小艾"}, headers=headers)
    again = alice.patch("/api/v1/member/profile", json={"nickname": "小艾"}, headers=headers)
    assert first.status_code == again.status_code == 200 and again.json == first.json
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    other = alice.patch("/api/v1/member/profile", json={"nickname": "别的"}, headers=headers)
    assert (other.status_code, other.json["error"]["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_a_length_on_an_object_is_documented_as_a_count_of_its_keys(spec):
    """The preview's payload takes at most 20 keys: maxProperties; maxLength would bound a string."""
    schemas = spec["components"]["schemas"]
    payload = schemas["RulePreviewArgs"]["properties"]["payload"]
    assert (payload["type"], payload["maxProperties"]) == ("object", 20) and "maxLength" not in payload
    objects_with_a_string_bound = [
        f"{name}.{field}" for name, schema in schemas.items() for field, prop in schema.get("properties", {}).items()
        if prop.get("type") == "object" and {"minLength", "maxLength"} & set(prop)]
    assert objects_with_a_string_bound == []
