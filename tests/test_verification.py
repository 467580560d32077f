"""In-store verification (核销): preview, confirm exactly once (also under 50 concurrent
confirms), each refusal with its own code, undo by the right person once, the audit
trail, and the lock-out of a staff account that guesses codes."""
import time

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.mall.models import CouponEvent, CouponVerification
from tests.api_routes import snapshot
from tests.api_steps import error_code
from tests.helpers import run_in_threads
from tests.mall_steps import ADMIN, MEMBER_API, STAFF_API, count, create_template, created

NOON = "2026-06-10T04:00:00+00:00"  # noon, 10 June 2026, Shanghai
PREVIEWS, VERIFICATIONS = f"{STAFF_API}/coupon-previews", f"{STAFF_API}/verifications"


def give_coupon(world, member, **template_fields) -> dict:
    """A coupon granted to the member; its detail, with the code."""
    admin = world.admin()
    template = create_template(admin, **{"kind": "threshold_off", "amount_off_fen": 20_00, "threshold_fen": 100_00,
                                         **template_fields})
    coupon = created(admin.post(f"{ADMIN}/coupon-templates/{template['id']}/grants",
                                json={"member_id": member.member_id, "reason": "测试"}))
    return member.get(f"{MEMBER_API}/coupons/{coupon['id']}").json


def verify(staff, code: str, amount_fen: int = 150_00, order_no: str = "POS-1"):
    return staff.post(VERIFICATIONS, json={"code": code, "order_no": order_no, "amount_fen": amount_fen})


def events(app, coupon_id: int) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(CouponEvent.from_state, CouponEvent.to_state, CouponEvent.actor, CouponEvent.store_id)
            .where(CouponEvent.coupon_id == coupon_id).order_by(CouponEvent.id))]


@pytest.fixture
def alice(world):
    member = world.member("alice")
    assert member.patch(f"{MEMBER_API}/profile", json={"nickname": "Alice"}).status_code == 200
    assert member.post(f"{MEMBER_API}/phone", json={"code": "phone-13800138000"}).status_code == 200
    return member


# --- preview and confirm ------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_a_preview_shows_the_masked_owner_the_value_the_conditions_and_usability_here(app, world, alice):
    coupon = give_coupon(world, alice, store_ids=[world.stores["A"]])
    preview = world.staff("clerk-a").post(PREVIEWS, json={"code": coupon["code_grouped"].lower()})
    assert preview.status_code == 200, preview.json
    assert preview.json["owner"] == {"nickname": "A**", "phone": "138****8000", "tier": "普通"}
    assert preview.json["coupon"]["summary"] == "满100元减20元"
    assert (preview.json["coupon"]["threshold_fen"], preview.json["coupon"]["state"]) == (100_00, "issued")
    assert [store["id"] for store in preview.json["coupon"]["stores"]] == [world.stores["A"]]
    assert (preview.json["usable"], preview.json["refusal"]) == (True, None)
    elsewhere = world.staff("clerk-b").post(PREVIEWS, json={"code": coupon["code"]}).json
    assert (elsewhere["usable"], elsewhere["refusal"]["code"]) == (False, "COUPON_WRONG_STORE")


@time_machine.travel(NOON, tick=False)
def test_confirming_uses_the_coupon_once_bound_to_store_staff_order_and_time(app, world, alice):
    coupon = give_coupon(world, alice)
    clerk = world.staff("clerk-a")
    done = verify(clerk, coupon["code"], amount_fen=150_00, order_no="POS-42")
    assert done.status_code == 201, done.json
    assert {key: done.json[key] for key in ("coupon_id", "store_id", "staff_id", "order_no", "amount_fen",
                                            "discount_fen", "verified_at")} == {
        "coupon_id": coupon["id"], "store_id": world.stores["A"], "staff_id": world.staff_ids["clerk-a"],
        "order_no": "POS-42", "amount_fen": 150_00, "discount_fen": 20_00,
        "verified_at": "2026-06-10T12:00:00+08:00"}
    again = verify(world.staff("manager-b"), coupon["code"])
    assert (again.status_code, error_code(again)) == (409, "COUPON_ALREADY_USED")
    assert again.json["error"]["details"] == {"used_at": "2026-06-10T12:00:00+08:00", "store_id": world.stores["A"],
                                              "store_name": "Store A"}
    assert alice.get(f"{MEMBER_API}/coupons/{coupon['id']}").json["state"] == "used"
    assert alice.get(f"{MEMBER_API}/card").json["coupons_count"] == 0
    assert events(app, coupon["id"])[-1] == ("issued", "used", f"staff:{world.staff_ids['clerk-a']}",
                                             world.stores["A"])


@time_machine.travel(NOON, tick=False)
def test_another_store_is_told_wrong_store_whether_or_not_the_coupon_was_used_and_not_when_or_where(
        app, world, alice):
    coupon = give_coupon(world, alice, store_ids=[world.stores["A"]])
    clerk_b = world.staff("clerk-b")
    unused = verify(clerk_b, coupon["code"]).json["error"]
    assert verify(world.staff("clerk-a"), coupon["code"]).status_code == 201
    used = verify(clerk_b, coupon["code"]).json["error"]
    assert (used["code"], used["details"]) == (unused["code"], unused["details"]) == (
        "COUPON_WRONG_STORE", {"store_ids": [world.stores["A"]]})
    assert clerk_b.post(PREVIEWS, json={"code": coupon["code"]}).json["refusal"] == used
    here = verify(world.staff("manager-a"), coupon["code"]).json["error"]
    assert (here["code"], here["details"]["store_name"]) == ("COUPON_ALREADY_USED", "Store A")


@pytest.mark.parametrize("fields, amount_fen, discount_fen", [
    ({"kind": "amount_off", "amount_off_fen": 30_00, "threshold_fen": 0}, 25_00, 25_00),  # never more than the order
    ({"kind": "percent_off", "percent_off": 20, "max_off_fen": 50_00, "threshold_fen": 0}, 199_99, 39_99),
    ({"kind": "percent_off", "percent_off": 20, "max_off_fen": 50_00, "threshold_fen": 0}, 1000_00, 50_00),
    ({"kind": "gift", "gift_name": "拿铁一杯", "threshold_fen": 0}, 0, 0),
])
def test_each_kind_takes_its_own_discount_off_the_order(app, world, alice, fields, amount_fen, discount_fen):
    coupon = give_coupon(world, alice, **fields)
    done = created(verify(world.staff("clerk-a"), coupon["code"], amount_fen=amount_fen))
    assert done["discount_fen"] == discount_fen


# --- refusals ---------------------------------------------------------------------------


def _refusal_cases(world, alice, admin) -> dict:
    """code -> (coupon code, staff, amount): one coupon per refusal, all set up at NOON."""
    with time_machine.travel("2026-06-05T04:00:00+00:00", tick=False):
        expired = give_coupon(world, alice, valid_days=None, valid_from="2026-06-01", valid_until="2026-06-09")
    future = give_coupon(world, alice, valid_days=None, valid_from="2026-06-11", valid_until="2026-06-30")
    voided = give_coupon(world, alice)
    assert admin.post(f"{ADMIN}/coupons/{voided['id']}/void", json={"reason": "误发"}).status_code == 200
    store_a_only = give_coupon(world, alice, store_ids=[world.stores["A"]])
    plain = give_coupon(world, alice)
    clerk_a, clerk_b = world.staff("clerk-a"), world.staff("clerk-b")
    return {
        "COUPON_EXPIRED": (expired["code"], clerk_a, 150_00),
        "COUPON_NOT_YET_VALID": (future["code"], clerk_a, 150_00),
        "COUPON_VOIDED": (voided["code"], clerk_a, 150_00),
        "COUPON_WRONG_STORE": (store_a_only["code"], clerk_b, 150_00),
        "COUPON_BELOW_THRESHOLD": (plain["code"], clerk_a, 99_99),
        "COUPON_NOT_FOUND": ("ZZZZZZZZZZZZZ", clerk_a, 150_00),
    }


WHEN = {"COUPON_EXPIRED": {"valid_until": "2026-06-10T00:00:00+08:00"},
        "COUPON_NOT_YET_VALID": {"valid_from": "2026-06-11T00:00:00+08:00"}}


@time_machine.travel(NOON, tick=False)
def test_each_refusal_has_its_own_code_and_writes_nothing(app, world, alice):
    cases = _refusal_cases(world, alice, world.admin())
    before = snapshot(app)
    answered = {}
    for expected, (code, staff, amount) in cases.items():
        reply = verify(staff, code, amount_fen=amount)
        answered[expected] = error_code(reply)
        if expected == "COUPON_BELOW_THRESHOLD":
            assert reply.json["error"]["details"] == {"threshold_fen": 100_00}
        if expected in WHEN:  # times as every reply shows them
            assert reply.json["error"]["details"] == WHEN[expected]
    assert answered == {code: code for code in cases}
    assert snapshot(app) == before
    assert error_code(world.staff().post(PREVIEWS, json={"code": "not a code at all"})) == "COUPON_NOT_FOUND"


# --- 50 at once -------------------------------------------------------------------------


def test_50_staff_confirming_one_coupon_at_once_use_it_exactly_once(app, world, alice):
    """Through the API: one 201; 49 × COUPON_ALREADY_USED naming when and where."""
    coupon = give_coupon(world, alice)
    staff = [world.staff("clerk-a"), world.staff("manager-a")]

    replies = run_in_threads(50, lambda i: verify(staff[i % 2], coupon["code"], order_no=f"POS-{i}"))

    winners = [reply for reply in replies if reply.status_code == 201]
    losers = [reply for reply in replies if reply.status_code != 201]
    assert len(winners) == 1 and len(losers) == 49
    assert {error_code(reply) for reply in losers} == {"COUPON_ALREADY_USED"}
    assert {(r.json["error"]["details"]["used_at"], r.json["error"]["details"]["store_name"]) for r in losers} == {
        (winners[0].json["verified_at"], "Store A")}
    assert count(app, CouponVerification) == 1
    assert [to_state for _, to_state, _, _ in events(app, coupon["id"])] == ["issued", "used"]


# --- undo ------------------------------------------------------------------------------


def test_the_clerk_may_undo_within_the_window_and_the_coupon_is_usable_again_once(app, world, alice):
    clerk, other_clerk = world.staff("clerk-a"), world.staff("clerk-b")
    with time_machine.travel(NOON, tick=False):
        coupon = give_coupon(world, alice)
        done = created(verify(clerk, coupon["code"]))
    undo = f"{VERIFICATIONS}/{done['id']}/undo"
    with time_machine.travel("2026-06-10T04:09:59+00:00", tick=False):
        assert error_code(clerk.post(undo, json={})) == "VALIDATION_ERROR"  # a reason is required
        assert error_code(other_clerk.post(undo, json={"reason": "顾客退货"})) == "STORE_FORBIDDEN"
        undone = clerk.post(undo, json={"reason": "顾客退货"})
        assert undone.status_code == 200 and undone.json["undo_reason"] == "顾客退货"
        assert error_code(clerk.post(undo, json={"reason": "顾客退货"})) == "VERIFICATION_ALREADY_UNDONE"
        assert clerk.post(PREVIEWS, json={"code": coupon["code"]}).json["usable"] is True
        assert alice.get(f"{MEMBER_API}/card").json["coupons_count"] == 1
        reused = created(verify(clerk, coupon["code"], order_no="POS-2"))
        assert error_code(verify(clerk, coupon["code"], order_no="POS-3")) == "COUPON_ALREADY_USED"
    clerk_id, store_a = world.staff_ids["clerk-a"], world.stores["A"]
    assert events(app, coupon["id"])[1:] == [("issued", "used", f"staff:{clerk_id}", store_a),
                                             ("used", "issued", f"staff:{clerk_id}", store_a),
                                             ("issued", "used", f"staff:{clerk_id}", store_a)]
    assert reused["id"] != done["id"]


def test_after_the_window_only_a_manager_of_the_store_may_undo(app, world, alice):
    with time_machine.travel(NOON, tick=False):
        coupon = give_coupon(world, alice)
        done = created(verify(world.staff("clerk-a"), coupon["code"]))
    undo = f"{VERIFICATIONS}/{done['id']}/undo"
    reason = {"reason": "收银错误"}
    with time_machine.travel("2026-06-10T04:10:01+00:00", tick=False):
        assert error_code(world.staff("clerk-a").post(undo, json=reason)) == "VERIFICATION_UNDO_EXPIRED"
        assert error_code(world.staff("manager-b").post(undo, json=reason)) == "STORE_FORBIDDEN"
        assert error_code(world.staff("manager-a").post(f"{VERIFICATIONS}/999999/undo", json=reason)) == \
            "VERIFICATION_NOT_FOUND"
        assert world.staff("manager-a").post(undo, json=reason).status_code == 200


def test_another_clerk_of_the_same_store_may_not_undo(app, world, alice):
    from app.accounts import create_account
    from app.stores.models import Staff
    from tests.helpers import PASSWORD

    with app.app_context():
        create_account(Staff, "clerk-a2", PASSWORD, name="clerk-a2", store_id=world.stores["A"], role="clerk")
        db.session.commit()
    coupon = give_coupon(world, alice)
    done = created(verify(world.staff("clerk-a"), coupon["code"]))
    reply = world.staff("clerk-a2").post(f"{VERIFICATIONS}/{done['id']}/undo", json={"reason": "帮同事撤销"})
    assert (reply.status_code, error_code(reply)) == (403, "ROLE_FORBIDDEN")


def test_ten_concurrent_undos_restore_the_coupon_once(app, world, alice):
    coupon = give_coupon(world, alice)
    done = created(verify(world.staff("clerk-a"), coupon["code"]))
    managers = [world.staff("manager-a"), world.staff("clerk-a")]
    replies = run_in_threads(10, lambda i: managers[i % 2].post(f"{VERIFICATIONS}/{done['id']}/undo",
                                                                 json={"reason": "撤销测试"}))
    assert sorted(reply.status_code for reply in replies) == [200] + [409] * 9
    assert [to_state for _, to_state, _, _ in events(app, coupon["id"])] == ["issued", "used", "issued"]


# --- guessing codes -----------------------------------------------------------------------


def test_a_staff_account_guessing_codes_is_slowed_then_locked_out(app, world, alice, monkeypatch):
    """3 unknown codes per 2 seconds, 5 an hour: the 4th guess waits for the short window
    to pass; after the 5th in the hour every lookup by that account is refused, even a
    valid code, also once the short window has passed again. Used coupons are no guesses."""
    monkeypatch.setitem(app.config, "COUPON_LOOKUP_FAILURES", "3 per 2 second;5 per hour")
    coupon = give_coupon(world, alice)
    guesser, colleague = world.staff("clerk-a"), world.staff("manager-a")
    assert created(verify(colleague, coupon["code"]))
    for i in range(4):  # a used coupon is no guess
        assert error_code(verify(guesser, coupon["code"], order_no=f"POS-{i}")) == "COUPON_ALREADY_USED"

    statuses = [guesser.post(PREVIEWS, json={"code": f"GUESS{i:08d}"}).status_code for i in range(4)]
    assert statuses == [404, 404, 404, 429]  # slowed
    time.sleep(2.1)  # the short window passes; the hourly one does not
    statuses = [guesser.post(PREVIEWS, json={"code": f"AGAIN{i:08d}"}).status_code for i in range(2)]
    assert statuses == [404, 404]
    time.sleep(2.1)
    assert error_code(guesser.post(PREVIEWS, json={"code": coupon["code"]})) == "RATE_LIMITED"  # locked
    assert error_code(verify(guesser, coupon["code"])) == "RATE_LIMITED"
    assert error_code(colleague.post(PREVIEWS, json={"code": "ZZZZZZZZZZZZZ"})) == "COUPON_NOT_FOUND"
