"""The cashier's screens: who is logged in, the member a lookup finds with the coupons usable
in this store, a purchase's reply with the member's new balance and tier, the store's recent
purchases (one of them by order number) and verifications, newest first by cursor."""
import time_machine

from tests.api_steps import LOOKUP, PURCHASES, bought, member_code
from tests.mall_steps import ADMIN, STAFF_API
from tests.test_paging import walk
from tests.test_verification import NOON, give_coupon, verify

VERIFICATIONS = f"{STAFF_API}/verifications"


def test_staff_me_is_the_logged_in_account_with_its_store(world):
    reply = world.staff("manager-b").get(f"{STAFF_API}/me")
    assert reply.status_code == 200, reply.json
    assert reply.json == {"id": world.staff_ids["manager-b"], "username": "manager-b", "name": "manager-b",
                          "role": "manager", "store_id": world.stores["B"], "active": True,
                          "store": {"id": world.stores["B"], "code": "B", "name": "Store B"}}
    assert world.member("alice").get(f"{STAFF_API}/me").status_code == 403


def test_a_purchase_answers_with_the_members_new_balance_and_tier(world):
    alice, clerk = world.member("alice"), world.staff()
    first = bought(clerk, alice.member_id, 5000_00)  # 5000 points at 普通 (1x); 5000 growth reaches 金卡
    assert first["member"] == {"member_id": alice.member_id, "points_balance": 5000, "growth": 5000,
                               "tier": "金卡", "tier_level": 2}
    second = bought(clerk, alice.member_id, 199_99)  # 金卡 earns 1.5x: 299.985 → 299
    assert (second["member"]["points_balance"], second["member"]["growth"]) == (5299, 5199)


def test_the_stores_purchases_page_newest_first_and_an_order_number_finds_one(world):
    alice, bob = world.member("alice"), world.member("bob")
    clerk_a, manager_a, clerk_b = world.staff("clerk-a"), world.staff("manager-a"), world.staff("clerk-b")
    in_a = [bought(clerk_a, alice.member_id, 10_00, order_no="A-1")["id"],
            bought(manager_a, bob.member_id, 20_00, order_no="A-2")["id"],
            bought(clerk_a, bob.member_id, 30_00, order_no="A-3")["id"]]
    in_b = bought(clerk_b, alice.member_id, 40_00, order_no="A-1")["id"]  # the same order number elsewhere

    assert walk(clerk_a, PURCHASES) == in_a[::-1]  # the whole store's, whoever recorded them
    assert walk(clerk_b, PURCHASES) == [in_b]
    found = clerk_a.get(PURCHASES, query_string={"order_no": "A-2"}).json
    assert ([purchase["id"] for purchase in found["items"]], found["next_cursor"]) == ([in_a[1]], None)
    assert found["items"][0]["amount_fen"] == 20_00
    assert clerk_b.get(PURCHASES, query_string={"order_no": "A-2"}).json == {"items": [], "next_cursor": None}
    assert clerk_a.get(PURCHASES, query_string={"order_no": "A 2"}).status_code == 422


@time_machine.travel(NOON, tick=False)
def test_the_stores_verifications_page_newest_first_with_the_amount_named_as_in_purchases(world):
    alice = world.member("alice")
    clerk_a, manager_a = world.staff("clerk-a"), world.staff("manager-a")
    first, second = give_coupon(world, alice), give_coupon(world, alice)
    done = [verify(clerk_a, first["code"], amount_fen=150_00, order_no="POS-1").json,
            verify(manager_a, second["code"], amount_fen=120_00, order_no="POS-2").json]
    assert [(v["order_no"], v["amount_fen"], v["discount_fen"]) for v in done] == [
        ("POS-1", 150_00, 20_00), ("POS-2", 120_00, 20_00)]
    undone = manager_a.post(f"{VERIFICATIONS}/{done[0]['id']}/undo", json={"reason": "顾客取消"})
    assert undone.status_code == 200, undone.json

    assert walk(clerk_a, VERIFICATIONS) == [done[1]["id"], done[0]["id"]]
    listed = clerk_a.get(VERIFICATIONS).json["items"]
    assert [(v["amount_fen"], v["undone_at"] is not None) for v in listed] == [(120_00, False), (150_00, True)]
    assert walk(world.staff("clerk-b"), VERIFICATIONS) == []


@time_machine.travel(NOON, tick=False)
def test_a_lookup_lists_the_coupons_usable_here_now_without_their_codes(app, world):
    alice, admin = world.member("alice"), world.admin()
    anywhere = give_coupon(world, alice, name="通用券", valid_days=30)
    here = give_coupon(world, alice, name="本店券", valid_days=3, store_ids=[world.stores["A"]])
    give_coupon(world, alice, name="别店券", store_ids=[world.stores["B"]])
    later = give_coupon(world, alice, name="未开始", valid_days=None, valid_from="2026-07-01", valid_until="2026-07-31")
    voided = give_coupon(world, alice, name="作废券")
    assert admin.post(f"{ADMIN}/coupons/{voided['id']}/void", json={"reason": "测试"}).status_code == 200
    used = give_coupon(world, alice, name="已用券")
    assert verify(world.staff("clerk-a"), used["code"]).status_code == 201

    reply = world.staff("clerk-a").post(LOOKUP, json={"code": member_code(app, alice.member_id)})
    assert reply.status_code == 200, reply.json
    usable = reply.json["usable_coupons"]
    assert [coupon["id"] for coupon in usable] == [here["id"], anywhere["id"]]  # soonest ending first
    assert all("code" not in coupon and "code_grouped" not in coupon for coupon in usable)
    assert (usable[0]["name"], usable[0]["summary"], usable[0]["state"]) == ("本店券", "满100元减20元", "issued")
    # valid 10 to 12 June: the cashier can say "two more days after today"
    assert (usable[0]["first_day"], usable[0]["last_day"], usable[0]["days_left"]) == ("2026-06-10", "2026-06-12", 2)
    assert later["id"] not in {coupon["id"] for coupon in usable}
