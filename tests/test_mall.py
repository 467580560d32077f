"""The points mall: what each member may redeem and why not, redemption as one
all-or-nothing transaction, per-period limits in the business zone, the member day,
cancelling with the points' own expiry dates, shipping, and the operators' numbers."""
from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.mall.models import MallItem, MallOrder
from app.messaging.models import OutboxEvent
from app.points.models import LedgerEntry, PointLot
from tests.api_routes import snapshot
from tests.api_steps import consistent_ledger, error_code
from tests.mall_steps import (
    ADDRESS,
    ADMIN,
    MEMBER_API,
    SHIP_TO,
    create_item,
    create_template,
    created,
    give_points,
    make_members,
    member_caller,
    store_scene,
)

NOON = "2026-06-10T04:00:00+00:00"  # noon, 10 June 2026, Shanghai
ITEMS, ORDERS = f"{MEMBER_API}/mall/items", f"{MEMBER_API}/mall/orders"


def redeem(member, item_id: int, headers: dict | None = None, **body):
    return member.post(ORDERS, json={"item_id": item_id, **body}, headers=headers)


def offers_by_name(member) -> dict:
    reply = member.get(f"{ITEMS}?limit=100")
    assert reply.status_code == 200, reply.json
    return {offer["name"]: offer for offer in reply.json["items"]}


def stock_of(app, item_id: int) -> int | None:
    with app.app_context():
        return db.session.get(MallItem, item_id).stock


def lots_of(app, member_id: int) -> list[tuple[date, int]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(PointLot.expires_on, PointLot.remaining)
            .where(PointLot.member_id == member_id, PointLot.remaining > 0)
            .order_by(PointLot.expires_on, PointLot.id))]


@pytest.fixture
def shopper(app, world):
    """A regular-tier member with 1,000 points, and the admin caller."""
    [member_id] = make_members(app, 1, prefix="shopper")
    give_points(app, member_id, 1000, expires_on=date(2027, 12, 31))
    return member_caller(app, member_id), world.admin()


# --- the listing ---------------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_the_listing_says_for_the_asking_member_which_items_are_redeemable_and_why_not(app, shopper):
    member, admin = shopper
    create_item(admin, name="ok")
    create_item(admin, name="tier", min_tier_level=2)
    create_item(admin, name="stock", stock=0)
    create_item(admin, name="window", sale_starts_at="2026-06-11T00:00:00+08:00")
    create_item(admin, name="member-day", member_day_only=True)
    create_item(admin, name="points", price_points=1001)
    limited = create_item(admin, name="limit", per_member_limit=1)
    create_item(admin, name="ended", sale_ends_at="2026-06-10T00:00:00+08:00")
    create_item(admin, name="off", active=False)
    stopped = create_template(admin)
    assert admin.patch(f"{ADMIN}/coupon-templates/{stopped['id']}", json={"active": False}).status_code == 200
    create_item(admin, name="coupon", kind="coupon", coupon_template_id=stopped["id"])
    assert redeem(member, limited["id"]).status_code == 201

    offers = offers_by_name(member)
    assert {name: offer["reason"] for name, offer in offers.items()} == {
        "ok": None, "tier": "ITEM_TIER_REQUIRED", "stock": "ITEM_OUT_OF_STOCK", "window": "ITEM_SALE_NOT_STARTED",
        "member-day": "ITEM_MEMBER_DAY_ONLY", "points": "POINTS_INSUFFICIENT", "limit": "ITEM_LIMIT_REACHED",
        "coupon": "COUPON_TEMPLATE_CLOSED",
    }
    assert [name for name, offer in offers.items() if offer["redeemable"]] == ["ok"]
    assert offers["limit"]["redeemed_in_period"] == 1
    assert list(offers) == sorted(offers, key=lambda name: -offers[name]["id"])  # newest first


@time_machine.travel(NOON, tick=False)
def test_a_refused_redemption_answers_the_listings_reason_and_writes_nothing(app, shopper):
    member, admin = shopper
    refused = {
        "ITEM_TIER_REQUIRED": create_item(admin, min_tier_level=1),
        "ITEM_OUT_OF_STOCK": create_item(admin, stock=0),
        "ITEM_SALE_ENDED": create_item(admin, sale_ends_at="2026-06-10T00:00:00+08:00"),
        "ITEM_MEMBER_DAY_ONLY": create_item(admin, member_day_only=True),
        "POINTS_INSUFFICIENT": create_item(admin, price_points=1001),
        "ADDRESS_REQUIRED": create_item(admin, kind="physical", stock=5),
    }
    before = snapshot(app)
    for code, item in refused.items():
        reply = redeem(member, item["id"], headers={"Idempotency-Key": f"try-{code}"})
        assert error_code(reply) == code, reply.json
    assert snapshot(app) == before
    inactive = create_item(admin, active=False)
    assert error_code(redeem(member, inactive["id"])) == "ITEM_NOT_FOUND"
    assert error_code(member.get(f"{ITEMS}/{inactive['id']}")) == "ITEM_NOT_FOUND"


@time_machine.travel(NOON, tick=False)
def test_a_failure_late_in_the_redemption_rolls_back_the_debit_the_stock_and_the_order(app, shopper):
    """The coupon's own per-member limit is checked after points and stock were taken:
    the refusal still leaves no order, no ledger entry and the stock untouched."""
    member, admin = shopper
    template = create_template(admin, per_member_limit=1)
    item = create_item(admin, kind="coupon", coupon_template_id=template["id"], stock=10)
    created(admin.post(f"{ADMIN}/coupon-templates/{template['id']}/grants",
                       json={"member_id": member.member_id, "reason": "先发一张"}))
    before = snapshot(app)
    reply = redeem(member, item["id"])
    assert (reply.status_code, error_code(reply)) == (409, "COUPON_LIMIT_REACHED")
    assert snapshot(app) == before
    assert consistent_ledger(app, member.member_id)["balance"] == 1000


# --- redeeming each kind ------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_redeeming_a_coupon_item_debits_earliest_expiring_points_and_hands_over_the_coupon(app, world):
    [member_id] = make_members(app, 1)
    give_points(app, member_id, 300, expires_on=date(2027, 12, 31))
    give_points(app, member_id, 150, expires_on=date(2026, 12, 31))
    member, admin = member_caller(app, member_id), world.admin()
    template = create_template(admin, kind="threshold_off", amount_off_fen=20_00, threshold_fen=100_00)
    item = create_item(admin, kind="coupon", coupon_template_id=template["id"], price_points=200, stock=5)

    order = created(redeem(member, item["id"]))

    assert (order["state"], order["points"], order["kind"]) == ("completed", 200, "coupon")
    assert order["coupon"]["summary"] == "满100元减20元" and len(order["coupon"]["code"]) == 13
    assert lots_of(app, member_id) == [(date(2027, 12, 31), 250)]  # the 150 expiring this year went first
    assert consistent_ledger(app, member_id)["balance"] == 250
    assert stock_of(app, item["id"]) == 4
    assert [c["id"] for c in member.get(f"{MEMBER_API}/coupons").json["items"]] == [order["coupon"]["id"]]
    assert member.get(f"{MEMBER_API}/card").json["coupons_count"] == 1
    assert admin.get(f"{ADMIN}/coupon-templates/{template['id']}").json["issued_count"] == 1
    with app.app_context():
        entry = db.session.execute(select(LedgerEntry).where(LedgerEntry.kind == "mall_redeem")).scalar_one()
        assert (entry.delta, entry.ref) == (-200, f"mall_order:{order['id']}")
        event = db.session.execute(select(OutboxEvent.member_id, OutboxEvent.payload)
                                   .where(OutboxEvent.kind == "mall_redeemed")).one()
    assert tuple(event) == (member_id, {"order_id": order["id"], "item_name": item["name"], "points": 200,
                                        "points_left": 250, "redeemed_on": "2026-06-10"})


@time_machine.travel(NOON, tick=False)
def test_a_physical_item_needs_an_address_and_waits_for_shipping(app, shopper):
    member, admin = shopper
    item = create_item(admin, kind="physical", price_points=300, stock=2)
    assert error_code(redeem(member, item["id"])) == "ADDRESS_REQUIRED"
    order = created(redeem(member, item["id"], ship_to=SHIP_TO))
    assert (order["state"], order["ship_to"], order["coupon"]) == ("awaiting_shipment", ADDRESS, None)
    assert member.get(f"{ORDERS}/{order['id']}").json == order
    assert [o["id"] for o in member.get(ORDERS).json["items"]] == [order["id"]]


@time_machine.travel(NOON, tick=False)
def test_a_replayed_idempotency_key_returns_the_same_order_and_debits_once(app, shopper):
    member, admin = shopper
    item = create_item(admin, price_points=100, stock=10)
    first = redeem(member, item["id"], headers={"Idempotency-Key": "tap-1"})
    again = redeem(member, item["id"], headers={"Idempotency-Key": "tap-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert (stock_of(app, item["id"]), consistent_ledger(app, member.member_id)["balance"]) == (9, 900)


# --- limits per period and the member day ----------------------------------------------------


@pytest.mark.parametrize("period, same_period, next_period", [
    # local times in Shanghai: the last second of a period, then the first of the next
    ("day", "2026-06-10T15:59:59+00:00", "2026-06-10T16:00:00+00:00"),
    ("week", "2026-06-14T15:59:59+00:00", "2026-06-14T16:00:00+00:00"),  # Sunday 23:59:59 → Monday
    ("month", "2026-06-30T15:59:59+00:00", "2026-06-30T16:00:00+00:00"),
])
def test_a_per_period_limit_counts_in_the_business_zone(app, world, period, same_period, next_period):
    [member_id] = make_members(app, 1)
    give_points(app, member_id, 1000, expires_on=date(2027, 12, 31))
    member, admin = member_caller(app, member_id), world.admin()
    with time_machine.travel(NOON, tick=False):
        item = create_item(admin, per_member_limit=1, limit_period=period)
        assert redeem(member, item["id"]).status_code == 201
    with time_machine.travel(same_period, tick=False):
        assert error_code(redeem(member, item["id"])) == "ITEM_LIMIT_REACHED"
    with time_machine.travel(next_period, tick=False):
        assert redeem(member, item["id"]).status_code == 201


@time_machine.travel(NOON, tick=False)
def test_a_cancelled_order_gives_its_place_in_the_limit_back(app, shopper):
    member, admin = shopper
    item = create_item(admin, kind="physical", per_member_limit=1, stock=5)
    order = created(redeem(member, item["id"], ship_to=SHIP_TO))
    assert error_code(redeem(member, item["id"], ship_to=SHIP_TO)) == "ITEM_LIMIT_REACHED"
    assert member.post(f"{ORDERS}/{order['id']}/cancel", json={}).status_code == 200
    assert redeem(member, item["id"], ship_to=SHIP_TO).status_code == 201


def test_on_the_member_day_prices_drop_and_member_day_items_open_to_their_tier(app, world):
    """The 18th in Shanghai (MEMBER_DAY): ×pct rounded up to a whole point, and the
    member-day-only gold item opens, for gold members only."""
    [regular_id, gold_id] = make_members(app, 2)
    for member_id in (regular_id, gold_id):
        give_points(app, member_id, 1000, expires_on=date(2027, 12, 31))
    with app.app_context():
        from app.member_row import Member

        db.session.get(Member, gold_id).tier_id = world.tiers["金卡"]
        db.session.commit()
    regular, gold, admin = member_caller(app, regular_id), member_caller(app, gold_id), world.admin()
    with time_machine.travel(NOON, tick=False):
        half = create_item(admin, name="half", price_points=199, member_day_price_pct=50)
        special = create_item(admin, name="special", member_day_only=True, min_tier_level=2)
    with time_machine.travel("2026-06-17T15:59:59+00:00", tick=False):  # 17 June 23:59:59 local
        offers = offers_by_name(gold)
        assert (offers["half"]["price_points"], offers["half"]["member_day"]) == (199, False)
        assert offers["special"]["reason"] == "ITEM_MEMBER_DAY_ONLY"
    with time_machine.travel("2026-06-17T16:00:00+00:00", tick=False):  # 18 June 00:00 local
        offers = offers_by_name(gold)
        assert (offers["half"]["price_points"], offers["half"]["list_price_points"]) == (100, 199)
        assert offers["special"]["redeemable"]
        assert offers_by_name(regular)["special"]["reason"] == "ITEM_TIER_REQUIRED"
        assert created(redeem(gold, half["id"]))["points"] == 100
        assert created(redeem(gold, special["id"]))["points"] == 100
        assert error_code(redeem(regular, special["id"])) == "ITEM_TIER_REQUIRED"
    assert consistent_ledger(app, gold_id)["balance"] == 800


# --- cancelling and shipping -------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_cancelling_returns_the_points_with_their_original_expiry_dates_and_the_stock(app, world):
    [member_id] = make_members(app, 1)
    give_points(app, member_id, 100, expires_on=date(2026, 12, 31))
    give_points(app, member_id, 100, expires_on=date(2027, 6, 30))
    give_points(app, member_id, 100, expires_on=date(2027, 12, 31))
    member, admin = member_caller(app, member_id), world.admin()
    item = create_item(admin, kind="physical", price_points=250, stock=3)
    order = created(redeem(member, item["id"], ship_to=SHIP_TO))
    assert lots_of(app, member_id) == [(date(2027, 12, 31), 50)]

    cancelled = member.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "不想要了"})

    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    assert lots_of(app, member_id) == [(date(2026, 12, 31), 100), (date(2027, 6, 30), 100),
                                       (date(2027, 12, 31), 50), (date(2027, 12, 31), 50)]
    assert consistent_ledger(app, member_id)["balance"] == 300
    assert stock_of(app, item["id"]) == 3
    again = admin.post(f"{ADMIN}/mall-orders/{order['id']}/cancel", json={})
    assert (error_code(again), again.json["error"]["details"]) == ("MALL_ORDER_NOT_CANCELLABLE", {"state": "cancelled"})
    with app.app_context():
        refunds = db.session.execute(select(LedgerEntry.delta, LedgerEntry.actor, LedgerEntry.reason)
                                     .where(LedgerEntry.kind == "mall_refund")).all()
    assert [tuple(r) for r in refunds] == [(250, f"member:{member_id}", "不想要了")]


@time_machine.travel(NOON, tick=False)
def test_shipping_queues_the_members_message_and_ends_cancelling(app, shopper):
    member, admin = shopper
    item = create_item(admin, name="帆布袋", kind="physical", price_points=300, stock=2)
    order = created(redeem(member, item["id"], ship_to=SHIP_TO))
    shipment = {"carrier": "顺丰", "tracking_no": "SF1234567890"}
    shipped = admin.post(f"{ADMIN}/mall-orders/{order['id']}/shipments", json=shipment)
    assert shipped.status_code == 200 and shipped.json["state"] == "shipped"
    with app.app_context():
        events = db.session.execute(select(OutboxEvent.kind, OutboxEvent.member_id, OutboxEvent.payload)
                                    .where(OutboxEvent.kind == "order_shipped")).all()
    assert [tuple(e) for e in events] == [("order_shipped", member.member_id, {
        "order_id": order["id"], "item_name": "帆布袋", "points": 300, "carrier": "顺丰",
        "tracking_no": "SF1234567890", "shipped_on": "2026-06-10"})]
    assert error_code(admin.post(f"{ADMIN}/mall-orders/{order['id']}/shipments", json=shipment)) == \
        "MALL_ORDER_NOT_SHIPPABLE"
    assert error_code(member.post(f"{ORDERS}/{order['id']}/cancel", json={})) == "MALL_ORDER_NOT_CANCELLABLE"
    assert consistent_ledger(app, member.member_id)["balance"] == 700


@time_machine.travel(NOON, tick=False)
def test_only_physical_orders_can_be_cancelled_or_shipped(app, shopper):
    member, admin = shopper
    order = created(redeem(member, create_item(admin)["id"]))
    assert order["state"] == "completed"
    assert error_code(member.post(f"{ORDERS}/{order['id']}/cancel", json={})) == "MALL_ORDER_NOT_CANCELLABLE"
    assert error_code(admin.post(f"{ADMIN}/mall-orders/{order['id']}/shipments",
                                 json={"carrier": "顺丰", "tracking_no": "SF1"})) == "MALL_ORDER_NOT_SHIPPABLE"


@time_machine.travel(NOON, tick=False)
def test_a_member_neither_sees_nor_cancels_another_members_order(app, world):
    alice_id, bob_id = make_members(app, 2, points=1000)
    alice, bob, admin = member_caller(app, alice_id), member_caller(app, bob_id), world.admin()
    order = created(redeem(alice, create_item(admin, kind="physical", stock=1)["id"], ship_to=SHIP_TO))
    for reply in (bob.get(f"{ORDERS}/{order['id']}"), bob.post(f"{ORDERS}/{order['id']}/cancel", json={})):
        assert (reply.status_code, error_code(reply)) == (404, "MALL_ORDER_NOT_FOUND")
    assert bob.get(ORDERS).json["items"] == []
    assert alice.get(f"{ORDERS}/{order['id']}").json["state"] == "awaiting_shipment"
    waiting = admin.get(f"{ADMIN}/mall-orders?state=awaiting_shipment").json["items"]
    assert [(o["id"], o["member_id"]) for o in waiting] == [(order["id"], alice_id)]


# --- operators --------------------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_restocking_is_relative_and_never_goes_below_zero(app, shopper):
    member, admin = shopper
    item = create_item(admin, stock=1)
    assert redeem(member, item["id"]).status_code == 201
    restocks = f"{ADMIN}/mall-items/{item['id']}/restocks"
    assert admin.post(restocks, json={"delta": 5}).json["stock"] == 5
    refused = admin.post(restocks, json={"delta": -6})
    assert (refused.status_code, error_code(refused), refused.json["error"]["details"]) == (
        422, "STOCK_BELOW_ZERO", {"stock": 5, "delta": -6})
    assert refused.json["error"]["message"] == "减少的数量超过剩余库存，库存不能低于 0"
    unlimited = create_item(admin)
    assert error_code(admin.post(f"{ADMIN}/mall-items/{unlimited['id']}/restocks", json={"delta": 1})) == \
        "VALIDATION_ERROR"
    patched = admin.patch(f"{ADMIN}/mall-items/{item['id']}", json={"price_points": 120, "active": False})
    assert (patched.json["price_points"], patched.json["active"], patched.json["stock"]) == (120, False, 5)
    assert error_code(admin.patch(f"{ADMIN}/mall-items/{item['id']}", json={"stock": 100})) == "VALIDATION_ERROR"


def test_the_numbers_count_redemptions_coupons_verifications_and_home_stores(app, world):
    [member_id] = make_members(app, 1, points=5000)
    member, admin, clerk = member_caller(app, member_id), world.admin(), world.staff("clerk-a")
    with time_machine.travel(NOON, tick=False):
        template = create_template(admin, name="满减", kind="threshold_off", amount_off_fen=20_00, threshold_fen=100_00)
        coupon_item = create_item(admin, name="券", kind="coupon", coupon_template_id=template["id"], price_points=200)
        bag = create_item(admin, name="包", kind="physical", price_points=1000, stock=5)
        order = created(redeem(member, coupon_item["id"]))
        cancelled = created(redeem(member, bag["id"], ship_to=SHIP_TO))
        assert member.post(f"{ORDERS}/{cancelled['id']}/cancel", json={}).status_code == 200
        created(clerk.post("/api/v1/staff/verifications",
                           json={"code": order["coupon"]["code"], "order_no": "POS-1", "amount_fen": 150_00}))
        created(member.post(f"{MEMBER_API}/store-visits", json={"scene": store_scene(app, world.stores["A"])}))
    with time_machine.travel("2026-06-11T04:00:00+00:00", tick=False):
        created(redeem(member, coupon_item["id"]))  # the next day: outside a one-day range
    numbers = admin.get(f"{ADMIN}/mall/numbers?from=2026-06-10&to=2026-06-10").json
    assert numbers["redemptions_by_item"] == [
        {"item_id": coupon_item["id"], "name": "券", "orders": 1, "points": 200, "cancelled": 0},
        {"item_id": bag["id"], "name": "包", "orders": 1, "points": 0, "cancelled": 1},
    ]
    assert numbers["coupons_issued_by_source"] == [{"source": "redemption", "issued": 1}]
    assert numbers["verifications_by_store"] == [
        {"store_id": world.stores["A"], "name": "Store A", "verified": 1, "undone": 0, "discount_fen": 20_00}]
    assert numbers["home_members_by_store"] == [{"store_id": world.stores["A"], "name": "Store A", "members": 1}]
    two_days = admin.get(f"{ADMIN}/mall/numbers?from=2026-06-10&to=2026-06-11").json
    assert two_days["redemptions_by_item"][0]["orders"] == 2
    assert error_code(admin.get(f"{ADMIN}/mall/numbers?from=2026-06-11&to=2026-06-10")) == "VALIDATION_ERROR"
    with app.app_context():
        assert db.session.execute(select(MallOrder.state).order_by(MallOrder.id)).scalars().all() == [
            "completed", "cancelled", "completed"]
