"""The console without a browser: every post needs the session's CSRF token, the roles' rule
over the console's whole route table, the session cookie and its end, the login limits
shared with the API, and pages that refuse bad input with a 4xx page, never a 500."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select, update

from app import create_app
from app.extensions import db
from app.operators.models import Operator
from app.operators.roles import ADMIN, ANALYST, OPERATOR
from tests.api_routes import routes, snapshot, writes
from tests.api_steps import error_code as api_error_code
from tests.console_helpers import ConsoleClient, error_code
from tests.helpers import PASSWORD, Caller
from tests.test_production import GOOD_KEY, PRODUCTION

CONSOLE = "/console/"
PUBLIC = {"POST /console/login"}
OWN_SESSION = {"POST /console/logout"}
ACCOUNTS_PREFIX = "/console/accounts"


def console_routes(app):
    return routes(app, CONSOLE)


def post_everywhere(app, client, route_list, csrf=True) -> dict[str, tuple[int, str | None]]:
    return {str(route): (reply.status_code, error_code(reply)) for route in route_list
            for reply in [client.post(route.url(app), data={}, csrf=csrf)]}


def test_every_console_post_without_the_csrf_token_is_refused(app, world):
    client = ConsoleClient.logged_in(app, ADMIN)
    posts = [route for route in console_routes(app) if writes(route)]
    assert posts, "no routes found: the enumeration is broken"
    before = snapshot(app)
    assert {route: outcome for route, outcome in post_everywhere(app, client, posts, csrf=False).items()
            if outcome != (400, "CSRF_INVALID")} == {}
    assert snapshot(app) == before
    wrong = client.client.post("/console/accounts", data={"csrf_token": "x" * 43, "username": "forged"})
    assert (wrong.status_code, error_code(wrong)) == (400, "CSRF_INVALID")
    assert client.client.post("/console/accounts", headers={"X-CSRF-Token": client.csrf},
                              data={"username": "bad"}).status_code == 422  # the htmx header counts


def test_an_analyst_posts_nothing_and_an_operator_no_account(app, world):
    posts = [route for route in console_routes(app) if writes(route) and str(route) not in PUBLIC | OWN_SESSION]
    before = snapshot(app)
    analyst = ConsoleClient.logged_in(app, ANALYST)
    analyst_written = snapshot(app)
    assert {route: outcome for route, outcome in post_everywhere(app, analyst, posts).items()
            if outcome != (403, "ROLE_FORBIDDEN")} == {}
    assert snapshot(app) == analyst_written
    operator = ConsoleClient.logged_in(app, OPERATOR)
    accounts = [route for route in console_routes(app) if route.path.startswith(ACCOUNTS_PREFIX)]
    assert {str(route): error_code(reply) for route in accounts
            for reply in [operator.get(route.url(app)) if not writes(route) else operator.post(route.url(app))]
            if error_code(reply) != "ROLE_FORBIDDEN"} == {}
    assert before != analyst_written  # (the accounts the test added)


def test_every_role_reads_the_overview_and_the_audit_log(app, world):
    for role in (ADMIN, OPERATOR, ANALYST):
        client = ConsoleClient.logged_in(app, role)
        for path in ("/console/", "/console/audit"):
            reply = client.get(path)
            assert reply.status_code == 200, (role, path)
            assert reply.headers["Content-Security-Policy"].startswith("default-src 'self'")
            assert reply.headers["Cache-Control"] == "no-store"
            assert ('action="/console/accounts"' in reply.get_data(as_text=True)) is False


def test_a_page_without_a_session_sends_to_the_login_and_back(app, world):
    reply = app.test_client().get("/console/audit?action=x")
    assert (reply.status_code, reply.headers["Location"]) == (302, "/console/login?next=/console/audit?action%3Dx")
    client = ConsoleClient(app)
    client.get("/console/login")
    reply = client.post("/console/login", data={"username": "operator", "password": PASSWORD,
                                                "next": "/console/audit?action=x"})
    assert reply.headers["Location"] == "/console/audit?action=x"
    for elsewhere in ("https://evil.example/", "//evil.example/", "/api/v1/admin/tiers", "/console//evil.example"):
        client = ConsoleClient(app)
        client.get("/console/login")
        reply = client.post("/console/login", data={"username": "operator", "password": PASSWORD, "next": elsewhere})
        assert reply.headers["Location"] == "/console/", elsewhere


def test_the_session_cookie_is_http_only_lax_and_console_only(app, world):
    client = ConsoleClient(app)
    client.get("/console/login")
    reply = client.client.post("/console/login", data={"username": "operator", "password": PASSWORD,
                                                       "csrf_token": client.csrf})
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith("membermall_console=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/console" in cookie and "Secure" not in cookie  # development serves plain HTTP


def test_in_production_the_session_cookie_is_secure(monkeypatch, tmp_path):
    for name, value in {**PRODUCTION, "SECRET_KEY": GOOD_KEY, "DATABASE_URL": f"sqlite:///{tmp_path}/p.db"}.items():
        monkeypatch.setenv(name, value)
    assert create_app().config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("ending", ["api_logout", "api_password", "disabled", "role_changed", "console_logout"])
def test_whatever_ends_the_accounts_tokens_ends_its_console_session(app, world, ending):
    client = ConsoleClient.logged_in(app, OPERATOR, "ops")
    assert client.get("/console/").status_code == 200
    api = Caller(app, Caller(app).post("/api/v1/auth/admin/login",
                                       json={"username": "ops", "password": PASSWORD}).json["token"])
    with app.app_context():
        ops_id = db.session.execute(select(Operator.id).where(Operator.username == "ops")).scalar_one()
    admin = world.admin()
    reply = {"api_logout": lambda: api.post("/api/v1/admin/logout"),
             "api_password": lambda: api.post("/api/v1/admin/password",
                                              json={"current_password": PASSWORD, "new_password": "another-pass-9"}),
             "disabled": lambda: admin.post(f"/api/v1/admin/operators/{ops_id}/disable"),
             "role_changed": lambda: admin.post(f"/api/v1/admin/operators/{ops_id}/role", json={"role": ANALYST}),
             "console_logout": lambda: client.post("/console/logout")}[ending]()
    assert reply.status_code in (200, 204, 303)
    again = client.get("/console/")
    assert (again.status_code, again.headers["Location"]) == (302, "/console/login?next=/console/")
    if ending == "console_logout":  # ends the API's tokens too, as the API's logout does
        assert api_error_code(api.get("/api/v1/admin/tiers")) == "AUTH_INVALID"


def test_a_session_lasts_the_admin_token_lifetime(app, world):
    client = ConsoleClient.logged_in(app, OPERATOR)
    later = datetime.now(timezone.utc) + timedelta(seconds=app.config["ADMIN_TOKEN_TTL"] + 5)
    with time_machine.travel(later, tick=False):
        assert client.get("/console/").status_code == 302


def test_failed_console_logins_count_with_the_apis(app, world):
    """LOGIN_FAILURES_PER_ACCOUNT (5/minute) per username, whichever door the guesses use."""
    client = ConsoleClient(app)
    client.get("/console/login")
    statuses = [client.post("/console/login", data={"username": "operator", "password": f"wrong-{i}"}).status_code
                for i in range(6)]
    assert statuses == [401] * 5 + [429]
    api = Caller(app).post("/api/v1/auth/admin/login", json={"username": "operator", "password": PASSWORD})
    assert api_error_code(api) == "RATE_LIMITED"
    refused = client.post("/console/login", data={"username": "operator", "password": PASSWORD})
    assert refused.status_code == 429 and "请求过于频繁" in refused.get_data(as_text=True)


@pytest.mark.parametrize("query", ["cursor=abc", "cursor=0", "cursor=99999999999999999999", "operator_id=-1",
                                   "from=2026-13-01", "to=yesterday", "to=9999-12-31", "action=%00",
                                   "target_type=a%00"])
def test_a_malformed_filter_is_a_422_page(app, world, query):
    client = ConsoleClient.logged_in(app, ANALYST)
    reply = client.get(f"/console/audit?{query}")
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR"), query


def test_a_nul_in_a_form_is_a_422_page_and_writes_nothing(app, world):
    client = ConsoleClient.logged_in(app, ADMIN)
    before = snapshot(app)
    reply = client.post("/console/accounts", data={"username": "x\x00y", "name": "n", "password": "p" * 8,
                                                   "role": ANALYST})
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
    assert snapshot(app) == before


def test_an_admin_manages_accounts_in_the_console(app, world):
    client = ConsoleClient.logged_in(app, ADMIN, "boss")
    other = ConsoleClient.logged_in(app, OPERATOR, "ops")
    with app.app_context():
        ids = dict(db.session.execute(select(Operator.username, Operator.id)).all())
    page = client.get("/console/accounts").get_data(as_text=True)
    assert all(f'data-username="{name}"' in page for name in ("boss", "ops", "operator"))
    assert client.post(f"/console/accounts/{ids['ops']}/disable").status_code == 303
    assert "已停用 ops" in client.get("/console/accounts").get_data(as_text=True)
    assert other.get("/console/").status_code == 302  # disabling ended their session
    assert client.post(f"/console/accounts/{ids['ops']}/enable").status_code == 303
    assert client.post(f"/console/accounts/{ids['ops']}/role", data={"role": ANALYST}).status_code == 303
    assert "ops 的角色已改为分析员" in client.get("/console/accounts").get_data(as_text=True)
    bad = client.post(f"/console/accounts/{ids['ops']}/role", data={"role": "root"})
    assert bad.status_code == 422 and "须为以下之一：" in bad.get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(Operator).where(Operator.username == "operator").values(role=ANALYST))
        db.session.commit()
    last = client.post(f"/console/accounts/{ids['boss']}/role", data={"role": OPERATOR})
    assert (last.status_code, error_code(last)) == (409, "OPERATOR_LAST_ADMIN")
    itself = client.post(f"/console/accounts/{ids['boss']}/disable")
    assert (itself.status_code, error_code(itself)) == (409, "OPERATOR_SELF_DISABLE")
    taken = client.post("/console/accounts", data={"username": "ops", "name": "x", "password": "long-enough-1",
                                                   "role": ANALYST})
    assert (taken.status_code, error_code(taken)) == (409, "USERNAME_TAKEN")
