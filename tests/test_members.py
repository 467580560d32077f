"""Members through the API: WeChat login, phone binding, profile, token lifetime."""
import socket

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.member_row import Member
from tests.api_steps import error_code
from tests.helpers import Caller

LOGIN = "/api/v1/auth/member/login"
PROFILE = "/api/v1/member/profile"
PHONE = "/api/v1/member/phone"


def member_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Member)).scalar_one()


def login(app, code):
    return Caller(app).post(LOGIN, json={"code": code})


def test_first_login_creates_the_member_and_the_second_finds_the_same_one(app, world, fake_wechat):
    first = login(app, "zoe")
    assert first.status_code == 200, first.json
    assert first.json["created"] is True
    assert first.json["audience"] == "member"
    assert first.json["expires_in"] == app.config["MEMBER_TOKEN_TTL"]

    second = login(app, "zoe")
    assert second.status_code == 200
    assert (second.json["created"], second.json["member_id"]) == (False, first.json["member_id"])
    assert member_count(app) == 1
    assert [call["params"]["js_code"] for call in fake_wechat.calls("/sns/jscode2session")] == ["zoe", "zoe"]

    view = world.admin().get(f"/api/v1/admin/members/{first.json['member_id']}")
    # new members start at the entry tier
    assert (view.json["openid"], view.json["tier"]) == ("fake-openid-zoe", "普通")


def test_each_login_token_opens_its_own_members_data(world):
    alice, bob = world.member("alice"), world.member("bob")
    assert alice.member_id != bob.member_id
    assert alice.get("/api/v1/member/card").json["member_id"] == alice.member_id
    assert bob.get("/api/v1/member/card").json["member_id"] == bob.member_id


def test_the_login_limit_counts_per_client_not_for_the_whole_programme(app, world):
    """A burst from one client is limited; members elsewhere still log in."""
    limit = int(app.config["LOGIN_RATE"].split("/")[0])

    def login_from(address, code):
        return Caller(app).post(LOGIN, json={"code": code}, environ_base={"REMOTE_ADDR": address})

    for i in range(limit):
        assert login_from("10.0.0.1", f"burst-{i}").status_code == 200
    limited = login_from("10.0.0.1", "one-more")
    assert (limited.status_code, error_code(limited)) == (429, "RATE_LIMITED")
    assert 1 <= limited.json["error"]["details"]["retry_after"] <= 60  # seconds until the minute's window ends
    assert login_from("10.0.0.2", "elsewhere").status_code == 200


def test_an_invalid_or_used_wechat_code_is_refused_and_creates_nobody(app, world):
    for code in ("invalid-code", "used-code"):
        reply = login(app, code)
        assert (reply.status_code, error_code(reply)) == (400, "WECHAT_CODE_INVALID"), code
    assert member_count(app) == 0


def test_wechat_busy_is_503_wechat_unavailable(app, world, fake_wechat):
    for errcode in (-1, 45009):  # system busy, daily quota reached
        fake_wechat.control(fail={"path": "/sns/jscode2session", "errcode": errcode})
        reply = login(app, "zoe")
        assert (reply.status_code, error_code(reply)) == (503, "WECHAT_UNAVAILABLE"), errcode
        assert member_count(app) == 0
    assert login(app, "zoe").status_code == 200  # once WeChat answers again, the same code works


def test_wechat_unreachable_is_503_not_500(app, world, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", f"http://127.0.0.1:{port}/")
    reply = login(app, "zoe")
    assert (reply.status_code, error_code(reply)) == (503, "WECHAT_UNAVAILABLE")
    assert member_count(app) == 0


@pytest.fixture
def slow_wechat_login(app, fake_wechat, monkeypatch):
    """code2session answers after 1 s while we wait 0.2 s; the delay is lifted afterwards."""
    monkeypatch.setitem(app.config, "WECHAT_TIMEOUT", 0.2)
    fake_wechat.control(delay={"path": "/sns/jscode2session", "seconds": 1})
    yield
    fake_wechat.reset()


def test_wechat_too_slow_is_503_wechat_unavailable(app, world, slow_wechat_login):
    reply = login(app, "zoe")
    assert (reply.status_code, error_code(reply)) == (503, "WECHAT_UNAVAILABLE")
    assert member_count(app) == 0


def test_phone_binding_through_wechat(world, fake_wechat):
    alice = world.member("alice")
    reply = alice.post(PHONE, json={"code": "phone-13800138000"})
    assert reply.status_code == 200, reply.json
    assert reply.json["phone"] == "13800138000"
    assert alice.get(PROFILE).json["phone"] == "13800138000"
    assert [call["json"] for call in fake_wechat.calls("/wxa/business/getuserphonenumber")] == [
        {"code": "phone-13800138000"}]


def test_a_phone_bound_to_another_member_is_phone_taken(world):
    alice, bob = world.member("alice"), world.member("bob")
    assert alice.post(PHONE, json={"code": "phone-13800138000"}).status_code == 200

    taken = bob.post(PHONE, json={"code": "phone-13800138000"})
    assert (taken.status_code, error_code(taken)) == (409, "PHONE_TAKEN")
    assert bob.get(PROFILE).json["phone"] is None

    again = alice.post(PHONE, json={"code": "phone-13800138000"})  # rebinding one's own phone is fine
    assert (again.status_code, again.json["phone"]) == (200, "13800138000")

    # Once alice moves to another number, hers is free for bob.
    assert alice.post(PHONE, json={"code": "phone-13900139000"}).json["phone"] == "13900139000"
    assert bob.post(PHONE, json={"code": "phone-13800138000"}).json["phone"] == "13800138000"


def test_an_invalid_phone_code_is_wechat_code_invalid(world):
    alice = world.member("alice")
    for code in ("invalid-phone", "used-phone"):
        reply = alice.post(PHONE, json={"code": code})
        assert (reply.status_code, error_code(reply)) == (400, "WECHAT_CODE_INVALID"), code
    assert alice.get(PROFILE).json["phone"] is None


def test_profile_reads_and_updates(world):
    alice = world.member("alice")
    fresh = alice.get(PROFILE)
    assert fresh.status_code == 200
    assert (fresh.json["nickname"], fresh.json["gender"], fresh.json["birthday"]) == (None, "unknown", None)
    assert fresh.json["card_no"] == alice.get("/api/v1/member/card").json["card_no"]

    patched = alice.patch(PROFILE, json={"nickname": "Alice", "gender": "female"})
    assert patched.status_code == 200, patched.json
    assert (patched.json["nickname"], patched.json["gender"]) == ("Alice", "female")
    assert alice.patch(PROFILE, json={"nickname": "Ali"}).json["gender"] == "female"  # untouched fields stay
    assert alice.get(PROFILE).json["nickname"] == "Ali"


def test_the_birthday_is_set_once(world):
    """It drives birthday benefits, so it cannot be moved to collect them twice."""
    alice = world.member("alice")
    assert alice.patch(PROFILE, json={"birthday": "1990-05-01"}).json["birthday"] == "1990-05-01"
    same = alice.patch(PROFILE, json={"birthday": "1990-05-01", "nickname": "A"})
    assert same.status_code == 200  # saving the same date again is harmless

    moved = alice.patch(PROFILE, json={"birthday": "1990-06-01", "nickname": "B"})
    assert (moved.status_code, error_code(moved)) == (409, "BIRTHDAY_ALREADY_SET")
    profile = alice.get(PROFILE).json
    assert (profile["birthday"], profile["nickname"]) == ("1990-05-01", "A")  # nothing of the refused patch


@pytest.mark.parametrize(("audience", "ttl_setting", "probe", "ok_status"), [
    ("member", "MEMBER_TOKEN_TTL", "/api/v1/member/profile", 200),
    ("staff", "STAFF_TOKEN_TTL", "/api/v1/staff/purchases/1", 404),  # past auth: no such purchase
    ("admin", "ADMIN_TOKEN_TTL", "/api/v1/admin/tiers", 200),
])
def test_tokens_expire_after_their_lifetime(app, world, audience, ttl_setting, probe, ok_status):
    ttl = app.config[ttl_setting]
    with time_machine.travel("2026-06-15T04:00:00+00:00", tick=False) as clock:
        login = {"member": world.member, "staff": world.staff, "admin": world.admin}[audience]
        caller = Caller(app, login().token)  # the token as it is, not logged in again as the clock moves
        clock.shift(ttl - 1)
        assert caller.get(probe).status_code == ok_status
        clock.shift(2)
        expired = caller.get(probe)
        assert (expired.status_code, error_code(expired)) == (401, "AUTH_INVALID")
