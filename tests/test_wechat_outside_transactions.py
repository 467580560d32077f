"""No WeChat call inside a transaction: while WeChat is slow to answer a phone binding, a
login or a mini-program code, the member's row lock (PostgreSQL) and the database's write lock (SQLite, where
every transaction is BEGIN IMMEDIATE) are free, so the member's purchases and every other
writer go on. Real threads against the real fake WeChat, slowed by its delay switch."""
import pytest

from tests.api_steps import bought
from tests.helpers import Caller, in_background, wait_until, wait_until_wechat_answers_late

PHONE = "/api/v1/member/phone"
PROFILE = "/api/v1/member/profile"
LOGIN = "/api/v1/auth/member/login"
PHONE_NUMBER = "/wxa/business/getuserphonenumber"
CODE2SESSION = "/sns/jscode2session"
WXACODE = "/wxa/getwxacodeunlimit"
REPLAYED = "Idempotent-Replayed"
KEY = {"Idempotency-Key": "b1nd-key"}
WECHAT_DELAY = 3  # seconds: far longer than the writes that must not wait for it


@pytest.fixture
def slow_wechat(fake_wechat):
    def slow(path: str):
        fake_wechat.control(delay={"path": path, "seconds": WECHAT_DELAY})
    return slow


def test_while_a_phone_binding_waits_on_wechat_the_members_purchase_and_others_writes_go_on(world, fake_wechat,
                                                                                           slow_wechat):
    alice, bob, clerk = world.member("alice"), world.member("bob"), world.staff()
    slow_wechat(PHONE_NUMBER)
    binding = in_background(lambda: alice.post(PHONE, json={"code": "phone-13800138000"}, headers=KEY))
    wait_until_wechat_answers_late(fake_wechat, PHONE_NUMBER)

    purchase = bought(clerk, alice.member_id, 100_00)
    renamed = bob.patch(PROFILE, json={"nickname": "Bob"})

    assert not binding.done()  # both went through while WeChat had not answered
    assert (purchase["member_id"], renamed.status_code) == (alice.member_id, 200)
    assert (binding.result().status_code, binding.result().json["phone"]) == (200, "13800138000")
    assert alice.get(PROFILE).json["phone"] == "13800138000"


def test_while_a_login_waits_on_wechat_other_members_write(app, world, fake_wechat, slow_wechat):
    """Even with an Idempotency-Key (which a login ignores) the login opens no transaction
    before WeChat answers."""
    bob = world.member("bob")
    slow_wechat(CODE2SESSION)
    login = in_background(lambda: Caller(app).post(LOGIN, json={"code": "carol"}, headers=KEY))
    wait_until_wechat_answers_late(fake_wechat, CODE2SESSION)

    renamed = bob.patch(PROFILE, json={"nickname": "Bob"})

    assert not login.done()
    assert renamed.status_code == 200
    assert (login.result().status_code, login.result().json["created"]) == (200, True)


def test_a_replayed_phone_binding_returns_the_stored_reply_without_asking_wechat_again(world, fake_wechat):
    """WeChat takes a phone code once: the retry of a binding that succeeded is answered from
    its stored reply, before (and instead of) calling WeChat with the used code."""
    alice = world.member("alice")
    first = alice.post(PHONE, json={"code": "phone-13800138000"}, headers=KEY)
    fake_wechat.control(fail={"path": PHONE_NUMBER, "errcode": 40163})  # "code been used"

    replay = alice.post(PHONE, json={"code": "phone-13800138000"}, headers=KEY)

    assert first.status_code == 200
    assert (replay.status_code, replay.headers[REPLAYED], replay.json) == (200, "true", first.json)
    assert len(fake_wechat.calls(PHONE_NUMBER)) == 1


def test_while_mini_program_codes_wait_on_wechat_other_writes_go_on(world, fake_wechat, slow_wechat):
    """The member's invite code and a store's code (GETs) end the token check's read before
    asking WeChat: on SQLite even a read transaction holds every writer."""
    alice, bob, admin = world.member("alice"), world.member("bob"), world.admin()
    slow_wechat(WXACODE)
    invite_code = in_background(lambda: alice.get("/api/v1/member/invitation/code.png"))
    store_code = in_background(lambda: admin.get(f"/api/v1/admin/stores/{world.stores['A']}/qr.png"))
    wait_until(lambda: sum(call["errcode"] is None for call in fake_wechat.calls(WXACODE)) == 2,
               "both codes asked of WeChat")

    renamed = bob.patch(PROFILE, json={"nickname": "Bob"})

    assert not invite_code.done() and not store_code.done()
    assert renamed.status_code == 200
    assert [reply.result().mimetype for reply in (invite_code, store_code)] == ["image/png", "image/png"]
