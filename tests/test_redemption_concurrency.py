"""Redemptions and cancels racing on real threads: no oversold stock, nobody over their
limit, points returned exactly once, every ledger balanced.

PostgreSQL runs the issue's full counts (2,000 redemptions by 500 members of 100 units);
SQLite, whose writers queue one at a time, runs a tenth of them.
"""
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.mall import redemption
from app.mall.models import MallItem, MallOrder
from app.member_row import Member
from app.points.models import POINTS, LedgerEntry, PointLot
from tests.api_steps import consistent_ledger, error_code
from tests.helpers import run_in_threads
from tests.mall_steps import (
    ADMIN,
    MEMBER_API,
    SHIP_TO,
    count,
    create_item,
    created,
    give_points,
    in_own_transaction,
    make_members,
    member_caller,
)


def redeem_in_context(app, member_id: int, item_id: int) -> int | str:
    """One redemption in its own app context and transaction: the order id or the error code."""
    return in_own_transaction(app, lambda: redemption.redeem(member_id, item_id).id)


def unbalanced(app, member_ids: list[int]) -> list[int]:
    """Members whose balance differs from Σ entries or Σ open lots (three grouped queries)."""
    with app.app_context():
        balances = dict(db.session.execute(
            select(Member.id, Member.points_balance).where(Member.id.in_(member_ids))).all())
        entries = dict(db.session.execute(
            select(LedgerEntry.member_id, func.sum(LedgerEntry.delta))
            .where(LedgerEntry.account == POINTS, LedgerEntry.member_id.in_(member_ids))
            .group_by(LedgerEntry.member_id)).all())
        lots = dict(db.session.execute(
            select(PointLot.member_id, func.sum(PointLot.remaining))
            .where(PointLot.member_id.in_(member_ids)).group_by(PointLot.member_id)).all())
    return [member_id for member_id in member_ids
            if not balances[member_id] == entries.get(member_id, 0) == lots.get(member_id, 0)]


def test_2000_concurrent_redemptions_of_100_units_by_500_members_sell_exactly_100(app, world, is_postgres):
    """Each member tries 4 times at once with everyone else; limit 1 each."""
    members, stock = (500, 100) if is_postgres else (50, 10)
    attempts, price, points = members * 4, 30, 100
    item = create_item(world.admin(), stock=stock, per_member_limit=1, price_points=price)
    member_ids = make_members(app, members, points=points)

    results = run_in_threads(attempts, lambda i: redeem_in_context(app, member_ids[i % members], item["id"]))

    orders = [result for result in results if isinstance(result, int)]
    refusals = [result for result in results if not isinstance(result, int)]
    assert len(orders) == stock
    assert set(refusals) <= {"ITEM_OUT_OF_STOCK", "ITEM_LIMIT_REACHED"}, set(refusals)
    with app.app_context():
        buyers = db.session.execute(select(MallOrder.member_id).where(MallOrder.item_id == item["id"])).scalars().all()
        assert sorted(buyers) == sorted(set(buyers)) and len(buyers) == stock  # nobody over the limit
        assert db.session.get(MallItem, item["id"]).stock == 0
        paid = dict(db.session.execute(select(Member.id, Member.points_balance).where(Member.id.in_(member_ids)))
                    .all())
    assert sorted(paid.values()) == [points - price] * stock + [points] * (members - stock)
    assert {member_id for member_id, balance in paid.items() if balance < points} == set(buyers)
    assert unbalanced(app, member_ids) == []


def test_concurrent_http_redemptions_sell_the_stock_once_and_hold_the_limit(app, world):
    """100 requests through the API at once (50 members, 2 taps each) for 20 units, limit 1."""
    item = create_item(world.admin(), kind="physical", stock=20, per_member_limit=1, price_points=50)
    callers = [member_caller(app, member_id) for member_id in make_members(app, 50, points=100)]

    replies = run_in_threads(100, lambda i: callers[i % 50].post(
        f"{MEMBER_API}/mall/orders", json={"item_id": item["id"], "ship_to": SHIP_TO}))

    sold = [reply for reply in replies if reply.status_code == 201]
    assert len(sold) == 20
    assert {error_code(reply) for reply in replies if reply.status_code != 201} <= {
        "ITEM_OUT_OF_STOCK", "ITEM_LIMIT_REACHED"}
    assert len({reply.json["id"] for reply in sold}) == 20
    with app.app_context():
        buyers = db.session.execute(select(MallOrder.member_id)).scalars().all()
        assert len(buyers) == len(set(buyers)) == 20
        assert db.session.get(MallItem, item["id"]).stock == 0
    assert unbalanced(app, [caller.member_id for caller in callers]) == []


def test_one_member_tapping_20_times_at_once_gets_their_per_day_limit(app, world):
    [member_id] = make_members(app, 1, points=10_000)
    item = create_item(world.admin(), per_member_limit=3, limit_period="day", price_points=10)
    results = run_in_threads(20, lambda i: redeem_in_context(app, member_id, item["id"]))
    assert sorted(map(str, results)).count("ITEM_LIMIT_REACHED") == 17
    assert count(app, MallOrder) == 3
    assert consistent_ledger(app, member_id)["balance"] == 10_000 - 30


def _physical_order(app, world, points: int = 500) -> tuple:
    [member_id] = make_members(app, 1)
    give_points(app, member_id, points // 2, expires_on=date(2026, 12, 31))
    give_points(app, member_id, points - points // 2, expires_on=date(2027, 12, 31))
    member, admin = member_caller(app, member_id), world.admin()
    item = create_item(admin, kind="physical", stock=5, price_points=points)
    order = created(member.post(f"{MEMBER_API}/mall/orders", json={"item_id": item["id"], "ship_to": SHIP_TO}))
    return member, admin, item, order


def test_cancelling_twice_at_once_returns_the_points_and_the_stock_once(app, world):
    """The member and an operator cancel the same order 10 times at once: one succeeds."""
    member, admin, item, order = _physical_order(app, world)
    assert consistent_ledger(app, member.member_id)["balance"] == 0

    replies = run_in_threads(10, lambda i: (member, admin)[i % 2].post(
        f"{MEMBER_API}/mall/orders/{order['id']}/cancel" if i % 2 == 0 else f"{ADMIN}/mall-orders/{order['id']}/cancel",
        json={}))

    assert sorted(reply.status_code for reply in replies) == [200] + [409] * 9
    assert {error_code(reply) for reply in replies if reply.status_code == 409} == {"MALL_ORDER_NOT_CANCELLABLE"}
    assert consistent_ledger(app, member.member_id)["balance"] == 500
    assert count(app, LedgerEntry, LedgerEntry.kind == "mall_refund") == 1
    with app.app_context():
        assert db.session.get(MallItem, item["id"]).stock == 5
        restored = db.session.execute(select(PointLot.expires_on, PointLot.remaining).where(
            PointLot.member_id == member.member_id, PointLot.remaining > 0).order_by(PointLot.expires_on)).all()
    assert [tuple(lot) for lot in restored] == [(date(2026, 12, 31), 250), (date(2027, 12, 31), 250)]


def test_a_cancel_racing_a_shipment_lets_exactly_one_through(app, world):
    member, admin, item, order = _physical_order(app, world)
    replies = run_in_threads(2, lambda i: member.post(f"{MEMBER_API}/mall/orders/{order['id']}/cancel", json={})
                             if i == 0 else admin.post(f"{ADMIN}/mall-orders/{order['id']}/shipments",
                                                       json={"carrier": "顺丰", "tracking_no": "SF1"}))
    assert sorted(reply.status_code for reply in replies) == [200, 409]
    with app.app_context():
        state = db.session.get(MallOrder, order["id"]).state
        stock = db.session.get(MallItem, item["id"]).stock
    balance = consistent_ledger(app, member.member_id)["balance"]
    assert (state, stock, balance) in {("cancelled", 5, 500), ("shipped", 4, 0)}
