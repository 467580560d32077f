"""Rate limits at the edges: guessing is counted atomically on every path, logins per account
and per client address (behind trusted proxies), and what each limit does with Redis down."""
import logging
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
import redis as redis_lib
import time_machine

from app import create_app
from app.extensions import db
from tests.api_routes import token
from tests.api_steps import LOOKUP, PURCHASES, error_code, forged_code, lookup_ticket, member_code
from tests.helpers import PASSWORD, Caller, run_in_threads
from tests.mall_steps import STAFF_API

STEP_START = "2026-06-15T04:00:00+00:00"  # the start of a member code's 30 s step
PREVIEWS = f"{STAFF_API}/coupon-previews"


@pytest.fixture
def on_postgres(is_postgres):
    if not is_postgres:
        pytest.skip("SQLite runs one request at a time (each holds the write lock from its first query): no race")


def first_limit(app, setting: str) -> int:
    return int(app.config[setting].split("/")[0])


def login(app, audience: str, username: str, password: str, address: str = "127.0.0.1"):
    return Caller(app).post(f"/api/v1/auth/{audience}/login", json={"username": username, "password": password},
                            environ_base={"REMOTE_ADDR": address})


@contextmanager
def another_app(app, **overrides):
    """A second app on the same database, the suite's Redis and fake WeChat, with `overrides`."""
    shared = ("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "REDIS_URL", "RATELIMIT_STORAGE_URI",
              "WECHAT_API_BASE", "SECRET_KEY", "OUTBOX_NUDGE_INTERVAL")
    other = create_app({**{name: app.config[name] for name in shared}, **overrides})
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()


# --- guessing is checked and counted in one step, on every path -------------------------


@time_machine.travel(STEP_START, tick=False)
def test_60_parallel_wrong_member_codes_get_exactly_the_limits_number_of_answers(app, world, on_postgres):
    """Half of them lookups, half purchases naming the member by code: one counter, and exactly
    MEMBER_CODE_LOOKUP_FAILURES of them are told the code is wrong; every other one is 429."""
    alice, clerk = world.member("alice"), world.staff()
    wrong = forged_code(app, alice.member_id)

    def guess(i):
        if i % 2:
            return clerk.post(LOOKUP, json={"code": wrong})
        return clerk.post(PURCHASES, json={"member_code": wrong, "order_no": f"G-{i}", "amount_fen": 100_00})

    codes = sorted(error_code(reply) for reply in run_in_threads(60, guess))
    limit = first_limit(app, "MEMBER_CODE_LOOKUP_FAILURES")
    assert codes == ["MEMBER_CODE_INVALID"] * limit + ["RATE_LIMITED"] * (60 - limit)


def test_60_parallel_unknown_coupon_codes_get_exactly_the_limits_number_of_answers(app, world, on_postgres):
    clerk = world.staff()
    replies = run_in_threads(60, lambda i: clerk.post(PREVIEWS, json={"code": f"GUESS{i:08d}"}))
    limit = first_limit(app, "COUPON_LOOKUP_FAILURES")
    assert sorted(error_code(reply) for reply in replies) == ["COUPON_NOT_FOUND"] * limit + ["RATE_LIMITED"] * (
        60 - limit)


# --- logins: per account and per client address -------------------------------------------


@pytest.mark.parametrize("audience, username, bystander", [("staff", "clerk-a", ("staff", "clerk-b")),
                                                           ("admin", "operator", ("staff", "clerk-a"))])
def test_failed_logins_are_limited_per_account_whatever_the_address(app, world, monkeypatch, audience, username,
                                                                    bystander):
    """A guesser spread over many addresses is stopped per username; then even the right password
    waits for the window. Successful logins do not count; other accounts are not affected."""
    monkeypatch.setitem(app.config, "LOGIN_RATE", "1000/minute")
    limit = first_limit(app, "LOGIN_FAILURES_PER_ACCOUNT")
    for _ in range(limit + 1):
        assert login(app, audience, username, PASSWORD).status_code == 200
    for i in range(limit):
        reply = login(app, audience, username, f"guess-{i}", address=f"10.0.0.{i}")
        assert error_code(reply) == "AUTH_BAD_CREDENTIALS"
    for password in ("guess-again", PASSWORD):
        limited = login(app, audience, username, password, address="10.0.1.1")
        assert (limited.status_code, error_code(limited)) == (429, "RATE_LIMITED")
        assert int(limited.headers["Retry-After"]) == limited.json["error"]["details"]["retry_after"]
    assert login(app, *bystander, PASSWORD, address="10.0.1.1").status_code == 200


def test_wrong_current_passwords_count_with_the_accounts_failed_logins(app, world, monkeypatch):
    """A stolen token cannot be used to guess the password through the password change: its
    failures share the account's login budget, and then the login waits too."""
    monkeypatch.setitem(app.config, "LOGIN_RATE", "1000/minute")
    limit = first_limit(app, "LOGIN_FAILURES_PER_ACCOUNT")
    clerk = world.staff("clerk-a")
    for i in range(limit):
        reply = clerk.post("/api/v1/staff/password", json={"current_password": f"guess-{i}",
                                                           "new_password": "a-new-password-1"})
        assert error_code(reply) == "CURRENT_PASSWORD_WRONG"
    limited = clerk.post("/api/v1/staff/password", json={"current_password": "guess-again",
                                                         "new_password": "a-new-password-1"})
    assert (limited.status_code, error_code(limited)) == (429, "RATE_LIMITED")
    assert error_code(login(app, "staff", "clerk-a", PASSWORD)) == "RATE_LIMITED"
    assert login(app, "staff", "clerk-b", PASSWORD).status_code == 200


def test_the_client_address_is_the_connections_unless_proxies_are_trusted(app, world, monkeypatch):
    """X-Forwarded-For is ignored by default (anyone can send it); with TRUSTED_PROXY_COUNT=1 the
    address the proxy appended is the client's, so each client behind the proxy has its own budget."""
    monkeypatch.setitem(app.config, "LOGIN_RATE", "2/minute")

    def logins_from(some_app, clients):
        return [Caller(some_app).post("/api/v1/auth/member/login", json={"code": f"m-{i}"},
                                      headers={"X-Forwarded-For": client},
                                      environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code
                for i, client in enumerate(clients)]

    assert logins_from(app, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [200, 200, 429]  # all one address: the proxy's
    with another_app(app, TRUSTED_PROXY_COUNT=1, LOGIN_RATE="2/minute") as behind_proxy:
        # a client's own forged header stays to the left of what the proxy appended
        assert logins_from(behind_proxy, ["6.6.6.6, 4.4.4.4", "7.7.7.7, 4.4.4.4", "5.5.5.5"]) == [200, 200, 200]
        assert logins_from(behind_proxy, ["8.8.8.8, 4.4.4.4"]) == [429]


# --- Redis down ---------------------------------------------------------------------------


@pytest.fixture
def doomed_redis():
    """A redis-server of our own on a spare port; the test kills it (and this fixture makes sure)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis_lib.Redis.from_url(url).ping()
                break
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        yield url, server
    finally:
        server.kill()
        server.wait()


@time_machine.travel(STEP_START, tick=False)
def test_with_redis_down_guessing_limits_fail_closed_and_the_address_rate_fails_open(app, world, doomed_redis,
                                                                                      caplog):
    """Member codes, coupon codes and password logins are 503 SERVICE_UNAVAILABLE with Retry-After
    (unlimited guessing is worse than a pause); a member's login is let through, with a warning."""
    url, server = doomed_redis
    alice = world.member("alice")
    with another_app(app, RATELIMIT_STORAGE_URI=url) as limited:
        clerk = Caller(limited, token(app, "staff", world.staff_ids["clerk-a"]))
        assert clerk.post(LOOKUP, json={"code": member_code(app, alice.member_id)}).status_code == 200
        ticket = lookup_ticket(clerk, alice.member_id)
        server.kill()
        server.wait()

        code = member_code(app, alice.member_id)
        refused = [clerk.post(LOOKUP, json={"code": code}),
                   clerk.post(PURCHASES, json={"member_code": code, "order_no": "BY-CODE", "amount_fen": 10_00}),
                   clerk.post(PREVIEWS, json={"code": "ANYCODE00001"}),
                   login(limited, "staff", "clerk-a", PASSWORD),
                   login(limited, "admin", "operator", PASSWORD)]
        for reply in refused:
            assert (reply.status_code, error_code(reply)) == (503, "SERVICE_UNAVAILABLE"), reply.request.path
            assert int(reply.headers["Retry-After"]) > 0

        # a ticket needs no counter: the purchase of a member looked up before goes through
        by_ticket = clerk.post(PURCHASES, json={"lookup_ticket": ticket, "order_no": "BY-TICKET", "amount_fen": 10_00})
        assert by_ticket.status_code == 201, by_ticket.json
        with caplog.at_level(logging.WARNING, logger="app.api.limits"):
            member_login = Caller(limited).post("/api/v1/auth/member/login", json={"code": "carol"})
        assert member_login.status_code == 200, member_login.json
        assert "LOGIN_RATE not enforced" in caplog.text
