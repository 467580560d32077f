"""Referral: invite codes and mini-program codes, binding at first login only, rewards
when the invitee qualifies, and each anti-abuse rule of the issue as its own test."""
from collections import Counter

import pytest
import time_machine
from sqlalchemy import select

from app.engagement import referral
from app.engagement.models import Referral
from app.extensions import db
from app.member_row import Member
from app.members import service as members
from app.messaging.models import OutboxEvent
from tests.api_routes import snapshot
from tests.api_steps import bought, error_code, refund
from tests.engagement_steps import (
    BASE_REFERRAL_RULES,
    REFERRAL_RULES,
    count,
    entries,
    local,
    operator,
    referral_rules,
)
from tests.helpers import Caller, assert_ledger_consistent, run_in_threads

LOGIN = "/api/v1/auth/member/login"
INVITATION = "/api/v1/member/invitation"
INVITATIONS = "/api/v1/member/invitations"
PHONE = "/api/v1/member/phone"


def invited(app, code: str, invite_code: str) -> Caller:
    """A first login through an invite code."""
    reply = Caller(app).post(LOGIN, json={"code": code, "invite_code": invite_code})
    assert reply.status_code == 200, reply.json
    caller = Caller(app, reply.json["token"])
    caller.member_id = reply.json["member_id"]
    return caller


def code_of(member) -> str:
    return member.get(INVITATION).json["code"]


def bind_phone(member, number: str) -> None:
    reply = member.post(PHONE, json={"code": f"phone-{number}"})
    assert reply.status_code == 200, reply.json


def states(inviter) -> list[tuple]:
    """(state, reason) of the inviter's invitations, oldest first."""
    return [(item["state"], item["reason"]) for item in reversed(inviter.get(INVITATIONS).json["items"])]


@pytest.fixture
def alice(app, world):
    referral_rules(app)
    return world.member("alice")


# --- codes and binding -----------------------------------------------------------------


def test_a_member_has_an_invite_code_and_a_mini_program_code_naming_it(app, alice, fake_wechat):
    card = alice.get(INVITATION).json
    assert card["scene"] == f"i={card['code']}" and len(card["scene"]) <= 32
    assert card["page"] == app.config["INVITE_PAGE"]
    assert (card["qualify_on"], card["inviter_reward"], card["invitee_reward"]) == (
        "phone_bound", {"points": 100, "growth": 10}, {"points": 50, "growth": 0})
    assert card["counts"] == {"pending": 0, "rewarded": 0, "refused": 0, "reversed": 0}
    assert code_of(alice) == card["code"]  # stable

    image = alice.get(f"{INVITATION}/code.png")
    assert (image.status_code, image.mimetype) == (200, "image/png")
    assert image.data.startswith(b"\x89PNG\r\n\x1a\n")
    call = fake_wechat.calls("/wxa/getwxacodeunlimit")[-1]["json"]
    assert (call["scene"], call["page"]) == (card["scene"], card["page"])


def test_wechat_busy_makes_the_mini_program_code_503_not_500(alice, fake_wechat):
    fake_wechat.control(fail={"path": "/wxa/getwxacodeunlimit", "errcode": -1})
    reply = alice.get(f"{INVITATION}/code.png")
    assert (reply.status_code, error_code(reply)) == (503, "WECHAT_UNAVAILABLE")


def test_a_new_member_who_logs_in_with_a_code_is_bound_pending_and_nothing_is_paid_at_sign_up(app, alice):
    bob = invited(app, "bob", code_of(alice))
    assert states(alice) == [("pending", None)]
    assert alice.get(INVITATIONS).json["items"][0]["invitee_nickname"] is None
    assert entries(app, alice.member_id, "referral") == entries(app, bob.member_id, "referral") == []
    assert bob.get(INVITATIONS).json["items"] == []  # bob sees his own invitations only


def test_binding_happens_only_when_the_login_creates_the_member(app, world, alice):
    bob = world.member("bob")  # joined without a code
    assert invited(app, "bob", code_of(alice)).member_id == bob.member_id
    carol = invited(app, "carol", code_of(alice))
    dave = world.member("dave")
    invited(app, "carol", code_of(dave))  # a later login with another code changes nothing
    assert states(alice) == [("pending", None)]
    assert dave.get(INVITATIONS).json["items"] == []
    with app.app_context():
        assert db.session.execute(select(Referral.inviter_id, Referral.invitee_id)).all() == [
            (alice.member_id, carol.member_id)]


def test_a_bad_invite_code_refuses_the_first_login_and_creates_no_one(app, world, alice):
    good = code_of(alice)
    tampered = good[:-1] + ("0" if good[-1] != "0" else "1")
    unknown = "ZZZZZ" + good[-4:]
    before = snapshot(app)
    for bad in ("not-a-code!", tampered, unknown, "AB"):
        reply = Caller(app).post(LOGIN, json={"code": "bob", "invite_code": bad})
        assert (reply.status_code, error_code(reply)) == (422, "INVITE_CODE_INVALID"), bad
    assert snapshot(app) == before
    assert count(app, Member) == 1
    # an existing member's login ignores the code: a stale scene never locks anyone out
    assert Caller(app).post(LOGIN, json={"code": "alice", "invite_code": tampered}).status_code == 200
    assert invited(app, "bob", good.lower()).member_id  # codes are read case-insensitively


# --- rewards ---------------------------------------------------------------------------


def test_binding_a_phone_qualifies_the_invitee_and_pays_both_once(app, alice):
    bob = invited(app, "bob", code_of(alice))
    bind_phone(bob, "13900000001")
    assert states(alice) == [("rewarded", None)]
    assert (entries(app, alice.member_id, "referral"), entries(app, bob.member_id, "referral")) == ([100], [50])
    assert entries(app, alice.member_id, "referral", account="growth") == [10]
    bind_phone(bob, "13900000002")  # another phone_bound event: the referral is no longer pending
    assert (entries(app, alice.member_id, "referral"), entries(app, bob.member_id, "referral")) == ([100], [50])
    with app.app_context():
        events = db.session.execute(select(OutboxEvent.kind, OutboxEvent.member_id, OutboxEvent.payload)
                                    .where(OutboxEvent.kind == "referral_rewarded")).all()
        for member_id in (alice.member_id, bob.member_id):
            assert_ledger_consistent(member_id)
    assert [(kind, member_id, payload["points"], payload["growth"]) for kind, member_id, payload in events] == [
        ("referral_rewarded", alice.member_id, 100, 10)]
    assert alice.get(INVITATION).json["counts"]["rewarded"] == 1


def test_with_first_purchase_configured_the_phone_does_not_qualify_but_the_first_purchase_does(app, world, alice):
    referral_rules(app, qualify_on="first_purchase")
    bob = invited(app, "bob", code_of(alice))
    bind_phone(bob, "13900000001")
    assert states(alice) == [("pending", None)]
    clerk = world.staff()
    bought(clerk, bob.member_id, 88_00)
    bought(clerk, bob.member_id, 99_00)
    assert states(alice) == [("rewarded", None)]
    assert (entries(app, alice.member_id, "referral"), entries(app, bob.member_id, "referral")) == ([100], [50])


def test_a_self_invitation_by_the_same_openid_never_binds(app, alice):
    """Logging in again with one's own code creates no one, so there is no one to bind."""
    again = Caller(app).post(LOGIN, json={"code": "alice", "invite_code": code_of(alice)})
    assert (again.status_code, again.json["created"]) == (200, False)
    assert count(app, Referral) == 0


def test_a_self_invitation_by_the_same_unionid_is_refused_and_never_paid(app, world, alice):
    with app.app_context():
        inviter, _ = members.get_or_create("another-app-openid", "fake-unionid-zoe")  # zoe's other account
        code = referral.code_of(inviter)
        inviter_id = inviter.id
        db.session.commit()
    zoe = invited(app, "zoe", code)
    bind_phone(zoe, "13900000001")
    with app.app_context():
        found = db.session.execute(select(Referral.state, Referral.reason)
                                   .where(Referral.inviter_id == inviter_id)).one()
    assert tuple(found) == ("refused", "self_invitation")
    assert entries(app, zoe.member_id, "referral") == entries(app, inviter_id, "referral") == []


def test_an_invitee_on_a_phone_the_inviter_once_had_is_a_self_invitation(app, world, alice):
    bind_phone(alice, "13900000001")
    bind_phone(alice, "13900000002")  # the first phone is free again
    bob = invited(app, "bob", code_of(alice))
    bind_phone(bob, "13900000001")
    assert states(alice) == [("refused", "self_invitation")]
    assert entries(app, bob.member_id, "referral") == []


def test_an_invitee_whose_phone_belonged_to_another_member_does_not_qualify(app, world, alice):
    carol = world.member("carol")
    bind_phone(carol, "13900000003")
    bind_phone(carol, "13900000004")
    bob = invited(app, "bob", code_of(alice))
    bind_phone(bob, "13900000003")
    assert states(alice) == [("refused", "phone_reused")]
    assert entries(app, alice.member_id, "referral") == []


def test_rewarded_invitations_are_capped_per_inviter_per_day_and_per_month(app, world):
    referral_rules(app, daily_cap=2, monthly_cap=3)
    with time_machine.travel(local("2026-03-30 10:00"), tick=False) as clock:
        alice = world.member("alice")
        code = code_of(alice)
        for n, when in enumerate(("2026-03-30 10:00", "2026-03-30 11:00", "2026-03-30 23:00",
                                  "2026-03-31 09:00", "2026-03-31 10:00", "2026-04-01 10:00"), start=1):
            clock.move_to(local(when))
            bind_phone(invited(app, f"friend{n}", code), f"1390000000{n}")
        alice = world.member("alice")
        assert states(alice) == [("rewarded", None), ("rewarded", None), ("refused", "daily_cap"),
                                 ("rewarded", None), ("refused", "monthly_cap"), ("rewarded", None)]
    assert entries(app, alice.member_id, "referral") == [100] * 4


def test_concurrent_qualifications_respect_the_daily_cap(app, world, alice):
    referral_rules(app, daily_cap=2)
    friends = [invited(app, f"friend{n}", code_of(alice)) for n in range(6)]
    run_in_threads(6, lambda i: friends[i].post(PHONE, json={"code": f"phone-1390000000{i}"}).status_code)
    assert Counter(states(alice)) == {("rewarded", None): 2, ("refused", "daily_cap"): 4}
    assert entries(app, alice.member_id, "referral") == [100, 100]


# --- reversal on refund ----------------------------------------------------------------


@pytest.fixture
def qualified_by_purchase(app, world, alice):
    """Bob, invited by Alice, qualified with a 100-yuan first purchase on 2 March."""
    referral_rules(app, qualify_on="first_purchase")
    with time_machine.travel(local("2026-03-02 10:00"), tick=False) as clock:
        bob = invited(app, "bob", code_of(alice))
        purchase = bought(world.staff(), bob.member_id, 100_00)
        yield bob, purchase, clock


def test_a_full_refund_of_the_qualifying_purchase_within_the_window_reverses_both_rewards(
        app, world, alice, qualified_by_purchase):
    bob, purchase, clock = qualified_by_purchase
    clock.move_to(local("2026-03-09 09:00"))  # 7 days minus an hour later
    manager = world.staff("manager-a")
    assert refund(manager, purchase["id"], 40_00).status_code == 201
    assert entries(app, alice.member_id, "referral_reversal") == []  # a partial refund keeps the reward
    assert refund(manager, purchase["id"], 60_00).status_code == 201
    assert (entries(app, alice.member_id, "referral_reversal"), entries(app, bob.member_id, "referral_reversal")) == (
        [-100], [-50])
    assert entries(app, alice.member_id, "referral_reversal", account="growth") == [-10]
    assert states(world.member("alice")) == [("reversed", None)]
    with app.app_context():
        assert assert_ledger_consistent(alice.member_id)["growth"] == 0


def test_a_full_refund_after_the_window_keeps_the_rewards(app, world, alice, qualified_by_purchase):
    _, purchase, clock = qualified_by_purchase
    clock.move_to(local("2026-03-09 11:00"))  # 7 days and an hour later
    assert refund(world.staff("manager-a"), purchase["id"], 100_00).status_code == 201
    assert entries(app, alice.member_id, "referral_reversal") == []
    assert states(world.member("alice")) == [("rewarded", None)]


# --- operators -------------------------------------------------------------------------


def test_operators_replace_the_referral_rules_and_nonsense_is_refused(app, world):
    admin = operator(app)
    rules = {**BASE_REFERRAL_RULES, "qualify_on": "first_purchase", "daily_cap": 5}
    assert admin.request("PUT", REFERRAL_RULES, json=rules).json == rules
    assert admin.get(REFERRAL_RULES).json == rules
    for bad, field in (({"qualify_on": "signup"}, "qualify_on"), ({"inviter": {"points": -1, "growth": 0}}, "inviter"),
                       ({"daily_cap": "many"}, "daily_cap")):
        reply = admin.request("PUT", REFERRAL_RULES, json={**rules, **bad})
        assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
        assert field in reply.json["error"]["details"]["fields"]
    assert admin.get(REFERRAL_RULES).json == rules


def test_operators_see_invitations_by_state_and_reason_and_the_top_inviters(app, world, alice):
    bind_phone(invited(app, "bob", code_of(alice)), "13900000001")
    invited(app, "carol", code_of(alice))
    bind_phone(alice, "13900000005")
    bind_phone(alice, "13900000006")
    bind_phone(invited(app, "dave", code_of(alice)), "13900000005")
    numbers = operator(app).get("/api/v1/admin/referrals/numbers").json
    assert numbers == {
        "bound": 3, "by_state": {"rewarded": 1, "pending": 1, "refused": 1},
        "refused_by_reason": {"self_invitation": 1}, "rewarded": 1, "points_paid": 150,
        "top_inviters": [{"member_id": alice.member_id, "rewarded": 1}],
    }
