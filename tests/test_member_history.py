"""The member's own history: purchases with store and refunds, tier changes with their reason in
Chinese, the open points lots soonest expiring first, and a title for each ledger entry."""
from datetime import date

import time_machine

from tests.api_steps import bought, refund
from tests.mall_steps import ADMIN, MEMBER_API, create_item, give_points
from tests.test_paging import walk

NOON = "2026-06-10T04:00:00+00:00"  # noon, 10 June 2026, Shanghai


def test_my_purchases_show_the_store_what_they_earned_and_their_refunds(world):
    alice, bob = world.member("alice"), world.member("bob")
    in_a = bought(world.staff("clerk-a"), alice.member_id, 300_00)
    in_b = bought(world.staff("clerk-b"), alice.member_id, 50_00)
    bought(world.staff("clerk-a"), bob.member_id, 70_00)
    assert refund(world.staff("manager-a"), in_a["id"], 100_00).status_code == 201

    assert walk(alice, f"{MEMBER_API}/purchases") == [in_b["id"], in_a["id"]]  # hers only, newest first
    latest, first = alice.get(f"{MEMBER_API}/purchases").json["items"]
    assert (latest["store"]["name"], latest["amount_fen"], latest["refunds"]) == ("Store B", 50_00, [])
    assert {key: first[key] for key in ("order_no", "amount_fen", "refunded_fen", "points_earned",
                                        "growth_earned")} == {
        "order_no": in_a["order_no"], "amount_fen": 300_00, "refunded_fen": 100_00, "points_earned": 300,
        "growth_earned": 300}
    assert first["store"] == {"id": world.stores["A"], "code": "A", "name": "Store A"}
    assert [(r["amount_fen"], r["points_reversed"], r["growth_reversed"]) for r in first["refunds"]] == [
        (100_00, 100, 100)]
    assert "staff_id" not in first and "purchase_id" not in first["refunds"][0]


def test_my_tier_history_names_the_tiers_and_the_reason(world):
    alice = world.member("alice")
    purchase = bought(world.staff("clerk-a"), alice.member_id, 5000_00)  # 5000 growth: 普通 → 金卡
    assert refund(world.staff("manager-a"), purchase["id"], 5000_00).status_code == 201  # back to 普通
    reply = alice.get(f"{MEMBER_API}/tier-changes")
    assert reply.status_code == 200, reply.json
    assert [(c["from_tier"] and c["from_tier"]["name"], c["to_tier"]["name"], c["to_tier"]["level"], c["reason"],
             c["reason_text"]) for c in reply.json["items"]] == [
        ("金卡", "普通", 0, "refund", "消费退款"), ("普通", "金卡", 2, "purchase", "门店消费")]
    assert world.member("bob").get(f"{MEMBER_API}/tier-changes").json == {"items": [], "next_cursor": None}


@time_machine.travel(NOON, tick=False)
def test_my_open_lots_page_soonest_expiring_first(app, world):
    alice, bob = world.member("alice"), world.member("bob")
    for points, expires_on in ((300, date(2027, 12, 31)), (100, date(2026, 6, 30)), (200, date(2026, 6, 30)),
                               (50, date(2026, 6, 9))):  # the last one is past its date: not usable
        give_points(app, alice.member_id, points, expires_on=expires_on)
    give_points(app, bob.member_id, 900, expires_on=date(2026, 6, 20))
    spent = create_item(world.admin(), price_points=100)
    assert alice.post(f"{MEMBER_API}/mall/orders", json={"item_id": spent["id"]}).status_code == 201

    lots = alice.get(f"{MEMBER_API}/points/lots").json["items"]
    # the redemption drew the earliest expiring usable lot (100, 30 June) empty
    assert [(lot["remaining"], lot["expires_on"]) for lot in lots] == [(200, "2026-06-30"), (300, "2027-12-31")]
    assert walk(alice, f"{MEMBER_API}/points/lots") == [lot["id"] for lot in lots]
    bobs_lot = bob.get(f"{MEMBER_API}/points/lots").json["items"][0]["id"]
    another = alice.get(f"{MEMBER_API}/points/lots", query_string={"cursor": bobs_lot}).json
    assert another == {"items": [], "next_cursor": None}  # another member's lot anchors nothing


@time_machine.travel(NOON, tick=False)
def test_each_ledger_entry_has_a_title_in_chinese(app, world):
    alice = world.member("alice")
    purchase = bought(world.staff("clerk-a"), alice.member_id, 300_00)
    assert refund(world.staff("manager-a"), purchase["id"], 100_00).status_code == 201
    coffee = create_item(world.admin(), name="咖啡券", price_points=50)
    assert alice.post(f"{MEMBER_API}/mall/orders", json={"item_id": coffee["id"]}).status_code == 201
    adjusted = world.admin().post(f"{ADMIN}/members/{alice.member_id}/points-adjustments",
                                  json={"delta": 5, "reason": "补偿"})
    assert adjusted.status_code == 201, adjusted.json

    titles = [entry["title"] for entry in alice.get(f"{MEMBER_API}/points/entries").json["items"]]
    assert titles == ["积分调整", "兑换 · 咖啡券", "消费退款 · Store A", "门店消费 · Store A"]
    growth = alice.get(f"{MEMBER_API}/points/entries", query_string={"account": "growth"}).json["items"]
    assert [entry["title"] for entry in growth] == ["消费退款 · Store A", "门店消费 · Store A"]
    admin_view = world.admin().get(f"{ADMIN}/members/{alice.member_id}/points/entries").json["items"]
    assert [entry["title"] for entry in admin_view] == titles


def test_each_tier_lists_its_benefits_as_labels(world):
    tiers = world.member("alice").get(f"{MEMBER_API}/tiers").json["items"]
    assert {tier["name"]: tier["benefit_labels"] for tier in tiers} == {
        "普通": [],
        "银卡": ["98折", "消费积分1.2倍", "生日送100积分"],
        "金卡": ["95折", "消费积分1.5倍", "签到积分1.5倍", "包邮", "生日送300积分"],
        "钻石": ["9折", "消费积分2倍", "签到积分2倍", "包邮", "生日送800积分"],
    }


def test_an_item_the_member_cannot_redeem_says_why_in_chinese(app, world):
    admin, alice = world.admin(), world.member("alice")
    create_item(admin, name="金卡专享", price_points=10, min_tier_level=2)
    create_item(admin, name="太贵", price_points=10**6)
    give_points(app, alice.member_id, 100)
    create_item(admin, name="能换", price_points=100)
    offers = {offer["name"]: (offer["reason"], offer["reason_text"])
              for offer in alice.get(f"{MEMBER_API}/mall/items").json["items"]}
    assert offers == {"金卡专享": ("ITEM_TIER_REQUIRED", "需要金卡等级及以上"),
                      "太贵": ("POINTS_INSUFFICIENT", "积分不足"), "能换": (None, None)}


def test_an_items_minimum_tier_is_named_beside_its_level(world):
    admin, alice = world.admin(), world.member("alice")
    create_item(admin, name="金卡专享", price_points=10, min_tier_level=2)
    create_item(admin, name="高于一切", price_points=10, min_tier_level=9)  # no tier that high
    create_item(admin, name="人人可换", price_points=10)
    offers = {offer["name"]: (offer["min_tier_level"], offer["min_tier_name"])
              for offer in alice.get(f"{MEMBER_API}/mall/items").json["items"]}
    assert offers == {"金卡专享": (2, "金卡"), "高于一切": (9, None), "人人可换": (None, None)}


def test_members_list_the_stores_with_address_hours_and_location(world):
    admin = world.admin()
    jingan = {"code": "SH-JA", "name": "静安店", "address": "上海市静安区南京西路1601号",
              "opening_hours": "10:00-22:00", "latitude": 31.2243, "longitude": 121.4456}
    created = admin.post(f"{ADMIN}/stores", json=jingan)
    assert created.status_code == 201, created.json
    moved = admin.patch(f"{ADMIN}/stores/{created.json['id']}", json={"opening_hours": "09:00-21:00"})
    assert moved.status_code == 200, moved.json
    assert admin.patch(f"{ADMIN}/stores/{created.json['id']}", json={"code": "X"}).status_code == 422  # printed
    assert admin.patch(f"{ADMIN}/stores/{created.json['id']}", json={"latitude": 91}).status_code == 422
    assert admin.patch(f"{ADMIN}/stores/999", json={"name": "无"}).status_code == 404

    alice = world.member("alice")
    assert walk(alice, f"{MEMBER_API}/stores") == [created.json["id"], world.stores["B"], world.stores["A"]]
    newest, *older = alice.get(f"{MEMBER_API}/stores").json["items"]
    assert newest == {"id": created.json["id"], **jingan, "opening_hours": "09:00-21:00"}
    assert {key: older[0][key] for key in ("name", "address", "latitude")} == {
        "name": "Store B", "address": None, "latitude": None}
