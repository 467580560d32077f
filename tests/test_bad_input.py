"""Bad input is a 4xx with a stable code and the field named, never a 500, and writes nothing.

The invalid values are derived from what each route documents in /openapi.json (types,
bounds, lengths, enums, patterns), for every route of the url_map: an endpoint added
later is covered as soon as it is registered. The foundation's endpoints also carry a
valid body (a positive control: the same request with one thing broken is refused).
"""
import json
import re
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from app.api.converters import INTEGER_MAX
from app.api.idempotency import MAX_KEY_LENGTH
from tests.api_routes import API_PREFIX, UNKEYED_POSTS, Route, error_of, routes, snapshot, two_stores, writes
from tests.helpers import PASSWORD, Caller

BIGINT_MAX = 2**63 - 1

# Valid bodies of the foundation's state-changing endpoints, by "METHOD rule".
VALID_BODIES = {
    "POST /api/v1/auth/member/login": {"code": "carol"},
    "POST /api/v1/auth/staff/login": {"username": "clerk-a", "password": PASSWORD},
    "POST /api/v1/auth/admin/login": {"username": "operator", "password": PASSWORD},
    "PATCH /api/v1/member/profile": {"nickname": "Alice", "gender": "female", "birthday": "1990-05-01"},
    "POST /api/v1/member/phone": {"code": "phone-13800138000"},
    "POST /api/v1/staff/member-lookups": {"code": "<alice's code>"},  # filled in per test: codes change
    "POST /api/v1/staff/purchases": {"member_code": "<alice's code>", "order_no": "NEW-1", "amount_fen": 100_00},
    "POST /api/v1/staff/purchases/<int:purchase_id>/refunds": {"refund_no": "R-1", "amount_fen": 1_00},
    "POST /api/v1/admin/tiers": {"level": 9, "name": "黑金", "growth_threshold": 999_999,
                                 "points_multiplier_pct": 300, "benefits": {"discount_pct": 80}},
    "PATCH /api/v1/admin/tiers/<int:tier_id>": {"name": "新名"},
    "POST /api/v1/admin/members/<int:member_id>/points-adjustments": {"delta": -1, "reason": "补偿错误发放"},
    "POST /api/v1/admin/stores": {"code": "C", "name": "Store C"},
    "POST /api/v1/admin/stores/<int:store_id>/staff": {"username": "new-clerk", "password": "long-enough-1",
                                                        "name": "New", "role": "clerk"},
}
CALLER_BY_PREFIX = {"member": "alice", "staff": "manager_a", "admin": "admin"}


@pytest.fixture
def scene(app, world, monkeypatch):
    # Rate limits (tested elsewhere) would turn the hundreds of bad requests here into 429s.
    monkeypatch.setitem(app.config, "LOGIN_RATE", "100000/minute")
    monkeypatch.setitem(app.config, "MEMBER_CODE_LOOKUP_FAILURES", "100000/minute")
    return two_stores(world)


# --- helpers ----------------------------------------------------------------------------


def caller_for(app, scene, route: Route) -> Caller:
    audience = route.path.removeprefix(API_PREFIX).split("/")[0]
    return scene[CALLER_BY_PREFIX[audience]] if audience in CALLER_BY_PREFIX else Caller(app)


def valid_body(scene, route: Route) -> dict:
    body = dict(VALID_BODIES.get(str(route), {}))
    for name in ("code", "member_code"):
        if body.get(name) == "<alice's code>":
            body[name] = scene["alice"].get(f"{API_PREFIX}member/card/code").json["code"]
    return body


def send(app, scene, route: Route, ids: dict | None = None, **kwargs):
    return caller_for(app, scene, route).request(route.method, route.url(app, {**scene["ids"], **(ids or {})}),
                                                 **kwargs)


def operation(spec: dict, route: Route) -> dict:
    return spec["paths"][route.spec_path][route.method.lower()]


def body_schema(spec: dict, route: Route) -> dict | None:
    """The documented JSON body of the route, or None if it takes none."""
    content = operation(spec, route).get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    return spec["components"]["schemas"][schema["$ref"].split("/")[-1]] if "$ref" in schema else schema


def json_routes(app) -> list[tuple[Route, dict]]:
    spec = Caller(app).get("/openapi.json").json
    found = [(route, body_schema(spec, route)) for route in routes(app) if writes(route)]
    return [(route, schema) for route, schema in found if schema is not None]


_WRONG_TYPES = {
    "integer": ["1", 1.5, True, {}],
    "number": ["1", True, {}],
    "string": [1, True, []],
    "boolean": [{}, "maybe"],
    "object": ["x", []],
    "array": ["x", {}],
}
_PATTERN_BREAKERS = ["has space", "semi;colon", "<tag>", "新"]


def invalid_values(prop: dict) -> list:
    """Values the documented property must refuse."""
    if prop.get("readOnly"):
        return ["anything"]  # a reply-only field is not input
    kind = prop.get("type")
    values = list(_WRONG_TYPES.get(kind, []))
    if not prop.get("nullable"):
        values.append(None)
    if "minimum" in prop:
        values.append(prop["minimum"] - 1)
    if "maximum" in prop:
        values.append(prop["maximum"] + 1)
    if kind == "integer":
        values += [2**63, 10**30]
    if kind == "string":
        values.append("nul\x00inside")  # PostgreSQL cannot store it: refused on both databases
    if "maxLength" in prop:
        values += ["x" * (prop["maxLength"] + 1), "x" * 20_000]
    if prop.get("minLength", 0) > 0:
        values.append("x" * (prop["minLength"] - 1))
    if "enum" in prop:
        values.append("not-one-of-them")
    if prop.get("format") == "date":
        values += ["2023-02-30", "yesterday", "1990-05-01T00:00:00"]
    if "pattern" in prop:
        values += [text for text in _PATTERN_BREAKERS if not re.search(prop["pattern"], text)][:1]
    return values


def id_bounds(route: Route) -> dict[str, int]:
    """The largest value each integer path parameter accepts (app/api/converters.py)."""
    converters = route.rule._converters
    return {name: converters[name].max for name in route.params if isinstance(converters[name], IntegerConverter)}


def refused_without_writing(app, action) -> list[str]:
    """Run `action` (which returns a list of problems) and add one if anything was written."""
    before = snapshot(app)
    problems = action()
    if snapshot(app) != before:
        problems.append("something was written")
    return problems


def named(reply, field: str) -> bool:
    details = (reply.get_json(silent=True) or {}).get("error", {}).get("details", {})
    return field in details.get("fields", {})


# --- the documented contract itself -----------------------------------------------------


def test_every_input_documents_bounds_the_database_can_hold(app):
    """An integer without a maximum (or a string without a length) could overflow a column: a 500."""
    spec = Caller(app).get("/openapi.json").json
    unbounded = []
    for route in routes(app):
        op = operation(spec, route)
        props = {param["name"]: param["schema"] for param in op.get("parameters", []) if param["in"] == "query"}
        schema = body_schema(spec, route) if writes(route) else None
        props.update({name: prop for name, prop in (schema or {}).get("properties", {}).items()
                      if not prop.get("readOnly")})
        for name, prop in props.items():
            if prop.get("type") == "integer" and not (
                    -(2**63) <= prop.get("minimum", -(2**64)) and prop.get("maximum", 2**64) <= BIGINT_MAX):
                unbounded.append(f"{route} {name}: {prop}")
            if prop.get("type") == "string" and not ({"maxLength", "enum", "format"} & prop.keys()):
                unbounded.append(f"{route} {name}: {prop}")
    assert unbounded == []


def test_the_valid_bodies_are_accepted(app, scene):
    """Positive control: each foundation body below is valid, so the refusals are about the broken part."""
    failures = []
    for route in routes(app):
        if str(route) in VALID_BODIES:
            reply = send(app, scene, route, json=valid_body(scene, route))
            if not 200 <= reply.status_code < 300:
                failures.append(f"{route}: {reply.status_code} {reply.get_json()}")
    assert failures == []
    assert {str(route) for route in routes(app)} >= VALID_BODIES.keys(), "a route in VALID_BODIES is gone"


# --- every documented field, every way to get it wrong ----------------------------------


@dataclass(frozen=True)
class Attempt:
    route: Route
    kwargs: dict  # for Caller.request: json=, data=, headers=, ...
    ids: dict = field(default_factory=dict)  # path parameters other than the scene's
    field: str | None = None  # the field the refusal must name


def misanswered(app, scene, attempts: list[Attempt], expected: tuple[int, str]) -> list[str]:
    """Send each attempt: those not answered `expected` (naming their field), and a last
    entry if anything was written."""
    def action():
        problems = []
        for attempt in attempts:
            reply = send(app, scene, attempt.route, ids=attempt.ids, **attempt.kwargs)
            if error_of(reply) != expected or (attempt.field and not named(reply, attempt.field)):
                problems.append(f"{attempt.route} {attempt.ids} {str(attempt.kwargs)[:80]}: {reply.status_code} "
                                f"{str(reply.get_json())[:200]}")
        return problems

    assert attempts, "nothing to try: the route enumeration is broken"
    return refused_without_writing(app, action)


def test_each_invalid_field_value_is_a_422_naming_the_field(app, scene):
    attempts = [Attempt(route, {"json": {**valid_body(scene, route), name: value}}, field=name)
                for route, schema in json_routes(app) for name, prop in schema.get("properties", {}).items()
                for value in invalid_values(prop)]
    assert misanswered(app, scene, attempts, (422, "VALIDATION_ERROR")) == []


def test_each_missing_required_field_is_a_422_naming_it(app, scene):
    attempts = [Attempt(route, {"json": {key: value for key, value in valid_body(scene, route).items() if key != name}},
                        field=name)
                for route, schema in json_routes(app) for name in schema.get("required", [])]
    assert misanswered(app, scene, attempts, (422, "VALIDATION_ERROR")) == []


def test_an_unknown_field_is_a_422_naming_it(app, scene):
    """Including ids a caller might hope to slip in: another member's, another store's."""
    attempts = [Attempt(route, {"json": {**valid_body(scene, route), name: 1}}, field=name)
                for route, schema in json_routes(app) for name in ("unexpected", "member_id", "store_id", "is_admin")
                if name not in schema.get("properties", {})]
    assert misanswered(app, scene, attempts, (422, "VALIDATION_ERROR")) == []


def test_an_unpaired_surrogate_in_any_string_field_is_a_422_naming_it(app, scene):
    """JSON may escape half a surrogate pair ("\\ud800"): no database driver can encode it
    (a nickname holding one was a 500)."""
    attempts = [Attempt(route, {"data": json.dumps({**valid_body(scene, route), name: "half \ud800 pair"}),
                                "content_type": "application/json"}, field=name)
                for route, schema in json_routes(app) for name, prop in schema.get("properties", {}).items()
                if prop.get("type") == "string" and not prop.get("readOnly")]
    assert any(str(attempt.route) == "PATCH /api/v1/member/profile" and attempt.field == "nickname"
               for attempt in attempts)
    assert misanswered(app, scene, attempts, (422, "VALIDATION_ERROR")) == []


def test_a_field_named_with_an_unpaired_surrogate_is_a_422_naming_it_escaped(app, scene):
    """Named as it came, the reply itself could not be encoded (a 500)."""
    attempts = [Attempt(route, {"data": '{"half \\ud800 pair": 1}', "content_type": "application/json"},
                        field="half \\ud800 pair") for route, _ in json_routes(app)]
    assert misanswered(app, scene, attempts, (422, "VALIDATION_ERROR")) == []


@pytest.mark.parametrize(("validity", "field"), [
    ({"valid_days": 30, "valid_from": "2026-06-01"}, "valid_days"),  # stored half-valid
    ({"valid_days": 30, "valid_until": "2026-06-30"}, "valid_days"),  # the CHECK constraint: a 500
    ({"valid_from": "2026-06-01", "valid_until": "9999-12-31"}, "valid_until"),  # its day after: a 500 at issue
])
def test_a_coupon_template_with_an_impossible_validity_is_a_422(app, scene, validity, field):
    route = next(route for route in routes(app) if str(route) == "POST /api/v1/admin/coupon-templates")
    body = {"name": "十元券", "kind": "amount_off", "amount_off_fen": 10_00, **validity}
    assert misanswered(app, scene, [Attempt(route, {"json": body}, field=field)], (422, "VALIDATION_ERROR")) == []


def test_a_missing_body_is_a_422_where_the_document_requires_one(app, scene):
    """webargs reads no body as {}: a PATCH without one answered 200 having changed nothing."""
    spec = Caller(app).get("/openapi.json").json
    required = [route for route, _ in json_routes(app) if operation(spec, route)["requestBody"].get("required")]
    assert {"PATCH /api/v1/member/profile", "PATCH /api/v1/admin/tiers/<int:tier_id>"} <= set(map(str, required))
    attempts = [Attempt(route, {}, field="json") for route in required]
    assert misanswered(app, scene, attempts, (422, "VALIDATION_ERROR")) == []


# --- bodies that are not a JSON object --------------------------------------------------


MALFORMED_JSON = ['{"amount_fen": 1', "{'single': 'quotes'}", "nul\x00l", b"\xff\xfe\xfd", "[1,]",
                  "[" * 30_000 + "]" * 30_000]  # the last nested past Python's recursion limit, under the size limit


def test_malformed_json_is_a_400(app, scene):
    attempts = [Attempt(route, {"data": raw, "content_type": "application/json"}, field="json")
                for route, _ in json_routes(app) for raw in MALFORMED_JSON]
    assert misanswered(app, scene, attempts, (400, "BAD_REQUEST")) == []


def test_a_json_value_that_is_not_an_object_is_a_422(app, scene):
    attempts = [Attempt(route, {"data": json.dumps(body), "content_type": "application/json"}, field="_schema")
                for route, _ in json_routes(app) for body in ([], [{"amount_fen": 1}], "text", 42, True, None)]
    assert misanswered(app, scene, attempts, (422, "VALIDATION_ERROR")) == []


def test_a_body_that_is_not_json_is_a_415(app, scene):
    """Not read as an empty object: a PATCH sent as text/plain must not answer 200 having saved nothing."""
    attempts = [Attempt(route, {"data": json.dumps(valid_body(scene, route)), "content_type": content_type})
                for route, _ in json_routes(app)
                for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml")]
    assert misanswered(app, scene, attempts, (415, "UNSUPPORTED_MEDIA_TYPE")) == []


def test_a_body_over_the_size_limit_is_a_413_before_it_is_read(app, scene):
    limit = app.config["MAX_CONTENT_LENGTH"]
    attempts = [Attempt(route, {"data": json.dumps({"padding": "x" * limit}), "content_type": "application/json"})
                for route, _ in json_routes(app)]
    assert misanswered(app, scene, attempts, (413, "PAYLOAD_TOO_LARGE")) == []


# --- ids --------------------------------------------------------------------------------


UNKNOWN_IDS = [
    ("POST /api/v1/staff/purchases/<int:purchase_id>/refunds", {"purchase_id": 424242}, "PURCHASE_NOT_FOUND"),
    ("POST /api/v1/staff/purchases/<int:purchase_id>/refunds", {"purchase_id": INTEGER_MAX}, "PURCHASE_NOT_FOUND"),
    ("GET /api/v1/staff/purchases/<int:purchase_id>", {"purchase_id": 424242}, "PURCHASE_NOT_FOUND"),
    # a member code naming no member: the same answer as a wrong code of a real member (no ids leak)
    ("POST /api/v1/staff/purchases", {"body": {"member_code": f"66{424242:010d}123456"}}, "MEMBER_CODE_INVALID"),
    ("POST /api/v1/staff/purchases", {"body": {"member_code": f"66{10**10 - 1}123456"}}, "MEMBER_CODE_INVALID"),
    ("POST /api/v1/admin/members/<int:member_id>/points-adjustments", {"member_id": 424242}, "MEMBER_NOT_FOUND"),
    ("POST /api/v1/admin/members/<int:member_id>/points-adjustments", {"member_id": INTEGER_MAX}, "MEMBER_NOT_FOUND"),
    ("GET /api/v1/admin/members/<int:member_id>", {"member_id": INTEGER_MAX}, "MEMBER_NOT_FOUND"),
    ("GET /api/v1/admin/members/<int:member_id>/points/entries", {"member_id": 424242}, "MEMBER_NOT_FOUND"),
    ("PATCH /api/v1/admin/tiers/<int:tier_id>", {"tier_id": 424242}, "TIER_NOT_FOUND"),
    ("POST /api/v1/admin/stores/<int:store_id>/staff", {"store_id": INTEGER_MAX}, "STORE_NOT_FOUND"),
]


def test_an_unknown_id_is_a_404_with_its_code(app, scene):
    by_name = {str(route): route for route in routes(app)}
    problems = []
    for route_name, ids, code in UNKNOWN_IDS:
        route, ids = by_name[route_name], dict(ids)
        body = {**valid_body(scene, route), **ids.pop("body", {})}
        problems += misanswered(app, scene, [Attempt(route, {"json": body} if writes(route) else {}, ids)], (404, code))
    assert problems == []


def test_an_id_past_the_columns_range_in_any_path_is_a_404_not_found(app, scene):
    """Such an id cannot exist: the router refuses it before a query fails on it (a 500 on PostgreSQL)."""
    attempts = []
    for route in routes(app):
        for name, bound in id_bounds(route).items():
            for huge in (2**31, 2**63, 10**30):
                if huge > bound:  # a route over a BIGINT table may widen its bound
                    kwargs = {"json": valid_body(scene, route)} if writes(route) else {}
                    attempts.append(Attempt(route, kwargs, {name: huge}))
    assert misanswered(app, scene, attempts, (404, "NOT_FOUND")) == []


def test_the_bounds_themselves_are_answered_cleanly(app, scene):
    """The largest path id a route accepts, and each documented minimum and maximum of a body field,
    reach the database: each is answered with a 2xx or a 4xx, never a 500."""
    problems = []
    for route in routes(app):
        kwargs = {"json": valid_body(scene, route)} if writes(route) else {}
        for name, bound in id_bounds(route).items():
            reply = send(app, scene, route, ids={name: bound}, **kwargs)
            if reply.status_code >= 500:
                problems.append(f"{route} {name}: {reply.status_code}")
    for route, schema in json_routes(app):
        for name, prop in schema.get("properties", {}).items():
            for bound in ("minimum", "maximum"):
                if bound in prop and not prop.get("readOnly"):
                    reply = send(app, scene, route, json={**valid_body(scene, route), name: prop[bound]})
                    if reply.status_code >= 500:
                        problems.append(f"{route} {name}={prop[bound]}: {reply.status_code}")
    assert problems == []


def test_the_bounds_of_query_parameters_are_answered_cleanly(app, scene):
    """A list cursor at its documented maximum is compared with an id column: bounded by
    INTEGER's range on an INTEGER-keyed table (PostgreSQL refuses a larger one: a 500)."""
    spec = Caller(app).get("/openapi.json").json
    answered = []
    for route in routes(app):
        for param in operation(spec, route).get("parameters", []):
            for bound in ("minimum", "maximum"):
                if param["in"] == "query" and bound in param["schema"]:
                    value = param["schema"][bound]
                    reply = send(app, scene, route, query_string={param["name"]: value})
                    answered.append((str(route), f"{param['name']}={value}", reply.status_code))
    assert ("GET /api/v1/admin/mall-items", f"cursor={INTEGER_MAX}", 200) in answered
    assert [answer for answer in answered if answer[2] >= 500] == []


EXTREME_TIMES = {"date": ["0001-01-01", "9999-12-31"],
                 "date-time": ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]}


def test_the_first_and_last_dates_are_answered_cleanly(app, scene):
    """Every date and time a route takes, in the body or the query, at the ends of what Python
    holds: converting one to the business zone or a day further overflowed (a 500)."""
    spec = Caller(app).get("/openapi.json").json
    answered = []
    for route in routes(app):
        query = {param["name"]: param["schema"] for param in operation(spec, route).get("parameters", [])
                 if param["in"] == "query"}
        for name, prop in query.items():
            for value in EXTREME_TIMES.get(prop.get("format"), []):
                others = {other: value for other, other_prop in query.items()
                          if other_prop.get("format") == prop["format"]}  # a range: both ends
                reply = send(app, scene, route, query_string=others)
                answered.append((str(route), name, value, reply.status_code))
    for route, schema in json_routes(app):
        for name, prop in schema.get("properties", {}).items():
            for value in EXTREME_TIMES.get(prop.get("format"), []):
                if not prop.get("readOnly"):
                    reply = send(app, scene, route, json={**valid_body(scene, route), name: value})
                    answered.append((str(route), name, value, reply.status_code))
    assert len(answered) > 10, "no date parameters found: the enumeration is broken"
    assert [answer for answer in answered if answer[3] >= 500] == []


BAD_QUERIES = ["cursor=0", "cursor=-5", f"cursor={2**63}", f"cursor={10**30}", "cursor=abc", "limit=0", "limit=101",
               "limit=1.5", f"limit={2**64}", "account=cash"]


def test_bad_query_parameters_are_a_422_naming_them(app, scene):
    """Every GET with documented query parameters, including those added later."""
    spec = Caller(app).get("/openapi.json").json
    checked = []
    for query in BAD_QUERIES:
        name = query.split("=")[0]
        for route in routes(app):
            if route.method == "GET" and name in {p["name"] for p in operation(spec, route).get("parameters", [])}:
                reply = caller_for(app, scene, route).get(f"{route.url(app, scene['ids'])}?{query}")
                checked.append((str(route), query, error_of(reply), named(reply, name)))
    assert {query for _, query, _, _ in checked} == set(BAD_QUERIES), "a parameter no route takes any more"
    assert [check for check in checked if check[2:] != ((422, "VALIDATION_ERROR"), True)] == []


def test_a_nul_character_in_the_query_is_a_422_naming_the_parameter(app, scene):
    """Checked for any parameter, even one a route ignores: it could reach a text column."""
    for route in routes(app):
        if route.method == "GET":
            reply = caller_for(app, scene, route).get(f"{route.url(app, scene['ids'])}?q=a%00b")
            assert error_of(reply) == (422, "VALIDATION_ERROR") and named(reply, "q"), (str(route), reply.json)


# --- headers, methods, routes -----------------------------------------------------------


def mutation_routes(app) -> list[Route]:
    return [route for route in routes(app) if route.method == "POST" and str(route) not in UNKEYED_POSTS]


def test_an_idempotency_key_it_cannot_store_is_refused_on_every_state_changing_post(app, scene):
    """Every state-changing POST goes through @mutation, which refuses such a key before any work."""
    attempts = [Attempt(route, {"json": valid_body(scene, route), "headers": {"Idempotency-Key": key}})
                for route in mutation_routes(app)
                for key in ("k" * (MAX_KEY_LENGTH + 1), "k" * 10_000, "", "nul\x00", "tab\tbed")]
    assert misanswered(app, scene, attempts, (400, "IDEMPOTENCY_KEY_INVALID")) == []


def test_an_idempotency_key_of_the_maximum_length_is_accepted(app, scene):
    route = next(route for route in routes(app) if str(route) == "POST /api/v1/staff/purchases")
    reply = send(app, scene, route, json=valid_body(scene, route), headers={"Idempotency-Key": "k" * MAX_KEY_LENGTH})
    assert reply.status_code == 201, reply.json


def test_an_unsupported_method_is_a_405_in_the_envelope(app, scene):
    """With the Allow header a 405 must carry."""
    allowed: dict[str, set] = {}
    for route in routes(app):
        allowed.setdefault(route.path, set()).add(route.method)
    problems = []
    for route in routes(app):
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - allowed[route.path]):
            reply = caller_for(app, scene, route).request(method, route.url(app, scene["ids"]), json={})
            allow = set(reply.headers.get("Allow", "").replace(" ", "").split(","))
            if error_of(reply) != (405, "METHOD_NOT_ALLOWED") or not allowed[route.path] <= allow:
                problems.append(f"{method} {route.path}: {reply.status_code} {reply.get_json()} {allow}")
    assert problems == []


def test_an_unknown_route_is_a_404_in_the_envelope(app):
    for path in ("/api/v1/nothing-here", "/api/v1/member/nothing-here", "/api/v2/member/card",
                 "/api/v1/staff/purchases/abc", "/api/v1/staff/purchases/-1", "/nothing-here"):
        for method in ("GET", "POST"):
            assert error_of(Caller(app, "any-token").request(method, path, json={})) == (404, "NOT_FOUND"), path


# --- fuzz: arbitrary bodies never make a 500 ---------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=80),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)


@st.composite
def fuzz_bodies(draw, schema: dict, base: dict):
    """Mostly the documented fields (so validation is passed now and then), sometimes anything."""
    if draw(st.integers(0, 3)) == 0:
        return draw(_json_values)
    body = {name: value for name, value in base.items() if draw(st.booleans())}
    fields = sorted(schema.get("properties", {}))
    for name in draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique=True)) if fields else []:
        body[name] = draw(_json_values)
    return body


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_no_body_ever_makes_a_500(app, scene, data):
    """Schemathesis-style: any JSON, mostly shaped like the documented body, on every JSON route."""
    route, schema = data.draw(st.sampled_from(json_routes(app)), label="route")
    body = data.draw(fuzz_bodies(schema, valid_body(scene, route)), label="body")
    reply = send(app, scene, route, json=body)
    assert reply.status_code < 500, (str(route), body, reply.get_json())
    if reply.status_code >= 400:
        assert error_of(reply)[1] is not None, reply.get_data(as_text=True)
