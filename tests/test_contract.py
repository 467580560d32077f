"""Schemathesis over /openapi.json: every documented operation, called in-process (WSGI) with
a token of its own audience (member; clerk and manager in turn; admin), on the suite's real
database and Redis, never answers a server error and always answers what the document says
for that status (the error envelope for any 4xx, 429 RATE_LIMITED included).

Runs on both databases: PostgreSQL is where a value past a column's range fails (the
SQLite driver takes any 64-bit integer), SQLite where a CHECK constraint or a string the
driver cannot encode fails first. 25 generated requests per operation plus schemathesis's
boundary (coverage) cases: about a minute on each database.
"""
import itertools
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from app import create_app
from tests.api_routes import API_PREFIX, two_stores

# Deterministic: the same requests on every run, so a failure in CI replays on a laptop.
CONFIG = {
    "seed": 12,
    "generation": {"deterministic": True, "database": "none", "max-examples": 25},
}


def documented_api():
    """The document does not depend on the database: read it from an app that never opens one."""
    spec = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).test_client().get("/openapi.json").json
    return schemathesis.openapi.from_dict(spec, config=schemathesis.Config.from_dict(CONFIG))


api = documented_api()


def no_server_error(ctx, response, case):
    """schemathesis's check, but a 503 SERVICE_UNAVAILABLE (a dependency down, answered with
    Retry-After as the README says) is a documented reply, not a bug."""
    if response.status_code == 503:
        error = json.loads(response.content).get("error", {})
        if error.get("code") == "SERVICE_UNAVAILABLE" and "retry-after" in response.headers:
            return True
    return not_a_server_error(ctx, response, case)


@pytest.fixture
def callers(app, world, monkeypatch):
    # Rate limits (tested elsewhere) would turn most of the requests into 429s.
    monkeypatch.setitem(app.config, "LOGIN_RATE", "100000/minute")
    monkeypatch.setitem(app.config, "MEMBER_CODE_LOOKUP_FAILURES", "100000/minute")
    monkeypatch.setitem(app.config, "COUPON_LOOKUP_FAILURES", "100000/minute")
    scene = two_stores(world)
    return {"member": scene["alice"], "admin": scene["admin"],
            "staff": itertools.cycle([scene["clerk_a"], scene["manager_a"]])}


@api.parametrize()
# The world is built once per operation and its requests share it, as requests in production share data.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_every_operation_keeps_its_contract(app, case, callers):
    audience = case.path.removeprefix(API_PREFIX).split("/")[0]
    caller = next(callers["staff"]) if audience == "staff" else callers.get(audience)
    headers = {"Authorization": f"Bearer {caller.token}"} if caller else {}
    case.call_and_validate(app=app, headers=headers, checks=[no_server_error, response_schema_conformance])
