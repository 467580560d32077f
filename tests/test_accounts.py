"""Accounts and their tokens: logout, password changes and resets, disabling and enabling
staff and operators. Each ends every token of the account at once (its token version),
and operators manage the accounts through the admin API."""
import pytest
from sqlalchemy import event, select, update

from app.extensions import db
from app.operators.models import Operator
from app.stores.models import Staff
from tests.api_routes import snapshot
from tests.api_steps import error_code
from tests.helpers import PASSWORD, Caller, add_account, run_in_threads

ADMIN_API = "/api/v1/admin"
NEW_PASSWORD = "another-horse-2"


def login(app, audience: str, username: str, password: str = PASSWORD):
    return Caller(app).post(f"/api/v1/auth/{audience}/login", json={"username": username, "password": password})


def device(app, audience: str, username: str, password: str = PASSWORD) -> Caller:
    """One more login of the account: another device holding its own token."""
    reply = login(app, audience, username, password)
    assert reply.status_code == 200, reply.json
    return Caller(app, reply.json["token"])


# A route of each audience, and its status once past authentication (staff: no such purchase).
PROBES = {"member": ("/api/v1/member/card", 200), "staff": ("/api/v1/staff/purchases/999", 404),
          "admin": (f"{ADMIN_API}/tiers", 200)}


def opens(caller, audience: str) -> bool:
    """The token opens its audience's routes; False if it is refused as invalid (anything else fails the test)."""
    path, past_authentication = PROBES[audience]
    reply = caller.get(path)
    assert reply.status_code == past_authentication or error_code(reply) == "AUTH_INVALID", (path, reply.json)
    return reply.status_code == past_authentication


def staff_id(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(select(Staff.id).where(Staff.username == username)).scalar_one()


def operator_id(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(select(Operator.id).where(Operator.username == username)).scalar_one()


@pytest.fixture
def second_operator(app, world):
    with app.app_context():
        add_account(Operator, "operator-2", name="Second")
        db.session.commit()
    return operator_id(app, "operator-2")


# --- logout ---------------------------------------------------------------------------


def test_a_staff_logout_ends_every_token_of_the_account_and_no_one_elses(app, world):
    phone, tablet = device(app, "staff", "clerk-a"), device(app, "staff", "clerk-a")
    colleague = device(app, "staff", "manager-a")
    reply = phone.post("/api/v1/staff/logout")
    assert reply.status_code == 204, reply.json
    assert not opens(phone, "staff") and not opens(tablet, "staff")  # every device, not only the one sent
    assert opens(colleague, "staff")
    assert error_code(phone.post("/api/v1/staff/logout")) == "AUTH_INVALID"  # a second logout: already ended
    assert opens(device(app, "staff", "clerk-a"), "staff")  # a new login works at once


def test_an_operator_logout_ends_every_token_of_the_account(app, world, second_operator):
    first, second = device(app, "admin", "operator"), device(app, "admin", "operator")
    other = device(app, "admin", "operator-2")
    assert first.post(f"{ADMIN_API}/logout").status_code == 204
    assert (opens(first, "admin"), opens(second, "admin"), opens(other, "admin")) == (False, False, True)
    assert opens(device(app, "admin", "operator"), "admin")


def test_a_member_logout_ends_every_token_of_the_member(app, world):
    phone, tablet = world.member("alice"), world.member("alice")
    bob = world.member("bob")
    assert phone.post("/api/v1/member/logout").status_code == 204
    assert (opens(phone, "member"), opens(tablet, "member"), opens(bob, "member")) == (False, False, True)
    before = snapshot(app)
    for headers in ({}, {"Idempotency-Key": "after-logout"}):  # writes too, with or without a key
        reply = tablet.patch("/api/v1/member/profile", json={"nickname": "还在吗"}, headers=headers)
        assert (reply.status_code, error_code(reply)) == (401, "AUTH_INVALID")
    assert snapshot(app) == before
    again = world.member("alice")
    assert again.member_id == phone.member_id and opens(again, "member")


def test_reading_the_token_version_costs_no_query(app, world):
    """The version is compared on the account row that authentication loads anyway: one
    statement reads the staff table per request, as before versions."""
    clerk = device(app, "staff", "clerk-a")
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert opens(clerk, "staff")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len([s for s in statements if "FROM staff" in s]) == 1, statements


# --- password change by the account holder ----------------------------------------------


@pytest.mark.parametrize(("audience", "username", "url"), [
    ("staff", "clerk-a", "/api/v1/staff/password"),
    ("admin", "operator", f"{ADMIN_API}/password"),
])
def test_a_password_change_needs_the_current_one_and_ends_every_token(app, world, audience, username, url):
    caller, other_device = device(app, audience, username), device(app, audience, username)

    before = snapshot(app)
    wrong = caller.post(url, json={"current_password": "not-the-password", "new_password": NEW_PASSWORD})
    assert (wrong.status_code, error_code(wrong)) == (403, "CURRENT_PASSWORD_WRONG")
    short = caller.post(url, json={"current_password": PASSWORD, "new_password": "7-chars"})
    assert (short.status_code, error_code(short)) == (422, "VALIDATION_ERROR")
    assert "new_password" in short.json["error"]["details"]["fields"]
    assert snapshot(app) == before and opens(caller, audience)  # refused: nothing changed, the token still works

    changed = caller.post(url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204, changed.json
    assert not opens(caller, audience) and not opens(other_device, audience)
    assert error_code(login(app, audience, username)) == "AUTH_BAD_CREDENTIALS"
    assert opens(device(app, audience, username, NEW_PASSWORD), audience)


def test_members_have_no_password_to_change(app, world):
    reply = world.member("alice").post("/api/v1/member/password", json={"current_password": "x", "new_password": "y"})
    assert reply.status_code == 404


# --- operators manage staff -------------------------------------------------------------


def test_staff_are_listed_newest_first_by_cursor_and_by_store(app, world):
    admin = world.admin()
    everyone = admin.get(f"{ADMIN_API}/staff", query_string={"limit": 100}).json
    assert everyone["next_cursor"] is None
    assert [(s["username"], s["store_id"], s["role"], s["active"]) for s in everyone["items"]] == [
        ("manager-b", world.stores["B"], "manager", True), ("clerk-b", world.stores["B"], "clerk", True),
        ("manager-a", world.stores["A"], "manager", True), ("clerk-a", world.stores["A"], "clerk", True)]
    assert all("password" not in s and "password_hash" not in s for s in everyone["items"])

    pages, cursor = [], None
    while True:
        reply = admin.get(f"{ADMIN_API}/staff", query_string={"limit": 3} | ({"cursor": cursor} if cursor else {}))
        pages.append([s["id"] for s in reply.json["items"]])
        cursor = reply.json["next_cursor"]
        if cursor is None:
            break
    assert pages == [[s["id"] for s in everyone["items"][:3]], [everyone["items"][3]["id"]]]

    store_a = admin.get(f"{ADMIN_API}/staff", query_string={"store_id": world.stores["A"]}).json
    assert [s["username"] for s in store_a["items"]] == ["manager-a", "clerk-a"]


def test_disabling_a_clerk_ends_their_tokens_and_logins_until_enabled(app, world):
    admin, clerk = world.admin(), device(app, "staff", "clerk-a")
    clerk_id = staff_id(app, "clerk-a")
    disabled = admin.post(f"{ADMIN_API}/staff/{clerk_id}/disable")
    assert disabled.status_code == 200, disabled.json
    assert (disabled.json["username"], disabled.json["active"]) == ("clerk-a", False)
    assert not opens(clerk, "staff")
    assert error_code(login(app, "staff", "clerk-a")) == "AUTH_BAD_CREDENTIALS"
    assert opens(device(app, "staff", "manager-a"), "staff")  # only that account

    enabled = admin.post(f"{ADMIN_API}/staff/{clerk_id}/enable")
    assert (enabled.status_code, enabled.json["active"]) == (200, True)
    assert not opens(clerk, "staff")  # a token ended stays ended
    assert opens(device(app, "staff", "clerk-a"), "staff")


def test_a_staff_password_reset_sets_the_operators_password_and_ends_the_tokens(app, world):
    admin, clerk = world.admin(), device(app, "staff", "clerk-a")
    url = f"{ADMIN_API}/staff/{staff_id(app, 'clerk-a')}/password"
    short = admin.post(url, json={"password": "short"})
    assert (short.status_code, error_code(short)) == (422, "VALIDATION_ERROR") and opens(clerk, "staff")

    reset = admin.post(url, json={"password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.json
    assert NEW_PASSWORD not in reset.get_data(as_text=True)
    assert not opens(clerk, "staff")
    assert error_code(login(app, "staff", "clerk-a")) == "AUTH_BAD_CREDENTIALS"
    assert opens(device(app, "staff", "clerk-a", NEW_PASSWORD), "staff")


def test_unknown_staff_is_staff_not_found(app, world):
    admin = world.admin()
    for reply in (admin.post(f"{ADMIN_API}/staff/999999/disable"), admin.post(f"{ADMIN_API}/staff/999999/enable"),
                  admin.post(f"{ADMIN_API}/staff/999999/password", json={"password": NEW_PASSWORD})):
        assert (reply.status_code, error_code(reply)) == (404, "STAFF_NOT_FOUND")


# --- operators manage operators ---------------------------------------------------------


def test_operators_are_created_listed_and_log_in(app, world):
    admin = world.admin()
    created = admin.post(f"{ADMIN_API}/operators", json={"username": "ops.li", "password": NEW_PASSWORD, "name": "李",
                                                         "role": "operator"})
    assert created.status_code == 201, created.json
    assert created.json == {"id": created.json["id"], "username": "ops.li", "name": "李", "role": "operator",
                            "active": True}
    taken = admin.post(f"{ADMIN_API}/operators", json={"username": "ops.li", "password": NEW_PASSWORD, "name": "x",
                                                       "role": "admin"})
    assert (taken.status_code, error_code(taken)) == (409, "USERNAME_TAKEN")
    for invalid in ({"username": "ops.wang", "password": "short", "name": "王", "role": "admin"},
                    {"username": "ops.wang", "password": NEW_PASSWORD, "name": "王"},  # a role is required
                    {"username": "ops.wang", "password": NEW_PASSWORD, "name": "王", "role": "root"}):
        refused = admin.post(f"{ADMIN_API}/operators", json=invalid)
        assert (refused.status_code, error_code(refused)) == (422, "VALIDATION_ERROR")

    listed = admin.get(f"{ADMIN_API}/operators").json
    assert [(o["username"], o["active"]) for o in listed["items"]] == [("ops.li", True), ("operator", True)]
    assert listed["next_cursor"] is None
    first = admin.get(f"{ADMIN_API}/operators", query_string={"limit": 1}).json
    assert [o["username"] for o in first["items"]] == ["ops.li"]
    rest = admin.get(f"{ADMIN_API}/operators", query_string={"limit": 1, "cursor": first["next_cursor"]}).json
    assert ([o["username"] for o in rest["items"]], rest["next_cursor"]) == (["operator"], None)
    assert opens(device(app, "admin", "ops.li", NEW_PASSWORD), "admin")


def test_an_operator_disables_another_whose_tokens_end_but_never_themselves(app, world, second_operator):
    me, them = device(app, "admin", "operator"), device(app, "admin", "operator-2")
    before = snapshot(app)
    refused = me.post(f"{ADMIN_API}/operators/{operator_id(app, 'operator')}/disable")
    assert (refused.status_code, error_code(refused)) == (409, "OPERATOR_SELF_DISABLE")
    assert snapshot(app) == before and opens(me, "admin")

    disabled = me.post(f"{ADMIN_API}/operators/{second_operator}/disable")
    assert (disabled.status_code, disabled.json["active"]) == (200, False)
    assert not opens(them, "admin")
    assert error_code(login(app, "admin", "operator-2")) == "AUTH_BAD_CREDENTIALS"

    assert me.post(f"{ADMIN_API}/operators/{second_operator}/enable").json["active"] is True
    assert not opens(them, "admin")
    assert opens(device(app, "admin", "operator-2"), "admin")


def test_an_operator_password_reset_ends_the_tokens(app, world, second_operator):
    me, them = device(app, "admin", "operator"), device(app, "admin", "operator-2")
    reset = me.post(f"{ADMIN_API}/operators/{second_operator}/password", json={"password": NEW_PASSWORD})
    assert (reset.status_code, reset.json["username"]) == (200, "operator-2")
    assert not opens(them, "admin") and opens(me, "admin")
    assert error_code(login(app, "admin", "operator-2")) == "AUTH_BAD_CREDENTIALS"
    assert opens(device(app, "admin", "operator-2", NEW_PASSWORD), "admin")


def test_unknown_operators_are_operator_not_found(app, world):
    admin = world.admin()
    for reply in (admin.post(f"{ADMIN_API}/operators/999999/disable"),
                  admin.post(f"{ADMIN_API}/operators/999999/enable"),
                  admin.post(f"{ADMIN_API}/operators/999999/password", json={"password": NEW_PASSWORD})):
        assert (reply.status_code, error_code(reply)) == (404, "OPERATOR_NOT_FOUND")


def test_two_operators_disabling_each_other_at_once_leave_one_active(app, world, second_operator, monkeypatch):
    """Each request authenticated while both were active; under the lock of both rows the
    second finds its own account disabled and is refused, so access is never lost. Twenty rounds."""
    monkeypatch.setitem(app.config, "LOGIN_RATE", "1000/minute")  # two logins a round
    ids = [operator_id(app, "operator"), second_operator]
    for round_ in range(20):
        with app.app_context():
            db.session.execute(update(Operator).values(active=True))
            db.session.commit()
        callers = [device(app, "admin", "operator"), device(app, "admin", "operator-2")]
        replies = run_in_threads(2, lambda i: callers[i].post(f"{ADMIN_API}/operators/{ids[1 - i]}/disable"))
        outcomes = sorted((reply.status_code, reply.status_code == 200 or error_code(reply)) for reply in replies)
        assert outcomes == [(200, True), (401, "AUTH_INVALID")], (round_, outcomes)
        with app.app_context():
            assert db.session.execute(select(Operator.id).where(Operator.active)).scalars().all() != [], round_
