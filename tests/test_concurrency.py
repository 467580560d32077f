"""Concurrent writers through the HTTP API on real threads (one test client each).

PostgreSQL serializes them with row locks and unique indexes, SQLite with its single
writer (BEGIN IMMEDIATE); the same assertions hold on both.
"""
import uuid
from itertools import accumulate

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.member_row import Member
from app.members.models import TierChange
from app.messaging.models import OutboxEvent
from app.points.models import POINTS, LedgerEntry
from app.purchases.models import Purchase, Refund
from tests.api_steps import bought, buy, error_code, refund
from tests.helpers import Caller, assert_ledger_consistent, run_in_threads


def adjust(admin, member_id: int, delta: int):
    return admin.post(f"/api/v1/admin/members/{member_id}/points-adjustments",
                      json={"delta": delta, "reason": "concurrency test"})


def points_entries(app, member_id: int) -> list[tuple[str, int]]:
    """(kind, delta) of the member's points entries in the order they were written."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(LedgerEntry.kind, LedgerEntry.delta)
            .where(LedgerEntry.member_id == member_id, LedgerEntry.account == POINTS).order_by(LedgerEntry.id)
        )]


def test_200_concurrent_credits_and_overdrawing_debits_never_take_the_balance_below_zero(app, world):
    """Adjustments (+ and −) and purchases race on one member: each debit either fits the
    balance it sees under the member's lock or is refused with POINTS_INSUFFICIENT; the
    ledger, the lots and the caches agree afterwards, and the tier moves step by step."""
    admin, clerk = world.admin(), world.staff("clerk-a")
    member_id = world.member("racer").member_id
    assert adjust(admin, member_id, 100).status_code == 201
    # 40 credits of 40, 40 purchases of ¥150 (≤ 225 points each at 金卡's 1.5×) and 120 debits
    # of 100: at most 10,700 points for 12,000 asked, so some debits must be refused.
    kinds = ["credit", "purchase", "debit", "debit", "debit"] * 40

    def work(i):
        if kinds[i] == "credit":
            return adjust(admin, member_id, 40)
        if kinds[i] == "purchase":
            return buy(clerk, member_id, 15_000)
        return adjust(admin, member_id, -100)

    replies = run_in_threads(len(kinds), work)

    outcomes = {(kind, reply.status_code, reply.status_code == 201 or error_code(reply))
                for kind, reply in zip(kinds, replies)}
    assert outcomes <= {("credit", 201, True), ("purchase", 201, True), ("debit", 201, True),
                        ("debit", 409, "POINTS_INSUFFICIENT")}, outcomes
    accepted_debits = sum(kind == "debit" and reply.status_code == 201 for kind, reply in zip(kinds, replies))
    assert 0 < accepted_debits < kinds.count("debit")
    earned = sum(reply.json["points_earned"] for kind, reply in zip(kinds, replies) if kind == "purchase")

    entries = points_entries(app, member_id)
    assert sorted(kind for kind, _ in entries) == sorted(
        ["adjust"] * (1 + kinds.count("credit") + accepted_debits) + ["purchase"] * kinds.count("purchase"))
    # Entry ids are drawn under the member's lock, so their order is the order of the writes:
    # the running balance never dipped below zero.
    assert min(accumulate(delta for _, delta in entries)) >= 0
    with app.app_context():
        state = assert_ledger_consistent(member_id)
        assert state["balance"] == 100 + 40 * kinds.count("credit") + earned - 100 * accepted_debits
        assert state["growth"] == 150 * kinds.count("purchase")
        member = db.session.get(Member, member_id)
        changes = db.session.execute(
            select(TierChange.from_tier_id, TierChange.to_tier_id).where(TierChange.member_id == member_id)
            .order_by(TierChange.id)).all()
        upgrades = db.session.execute(select(func.count()).where(
            OutboxEvent.member_id == member_id, OutboxEvent.kind == "tier_upgraded")).scalar_one()
        tier_id = member.tier_id
    # 6,000 growth: 普通 → 银卡 → 金卡 with no change recorded twice and no step skipped in the record
    assert [tuple(change) for change in changes] == [(world.tiers["普通"], world.tiers["银卡"]),
                                                     (world.tiers["银卡"], world.tiers["金卡"])]
    assert upgrades == 2
    assert tier_id == world.tiers["金卡"]


@pytest.fixture
def shopper(world):
    return world.member("shopper").member_id


def purchase_rows(app, order_no: str) -> list[Purchase]:
    with app.app_context():
        return db.session.execute(select(Purchase).where(Purchase.order_no == order_no)).scalars().all()


def test_50_concurrent_records_of_one_order_make_one_purchase_and_one_set_of_entries(app, world, shopper):
    """The same order sent 50 times at once: one purchase, its points and growth once, and
    every caller gets that purchase back."""
    clerk = world.staff("clerk-a")
    replies = run_in_threads(50, lambda i: buy(clerk, shopper, 12_345, order_no="ORDER-ONCE"))

    assert {reply.status_code for reply in replies} == {201}
    [purchase] = purchase_rows(app, "ORDER-ONCE")
    assert {reply.json["id"] for reply in replies} == {purchase.id}
    assert points_entries(app, shopper) == [("purchase", 123)]
    with app.app_context():
        state = assert_ledger_consistent(shopper)
    assert (state["balance"], state["growth"]) == (123, 123)


def test_50_concurrent_records_of_one_order_with_different_amounts_accept_exactly_one(app, world, shopper):
    """One order number, 50 different amounts at once: one is recorded, the other 49 get
    ORDER_DUPLICATE, and only the recorded amount earns points."""
    clerk = world.staff("clerk-a")
    amounts = [10_000 + 100 * i for i in range(50)]
    replies = run_in_threads(50, lambda i: buy(clerk, shopper, amounts[i], order_no="ORDER-RACE"))

    winners = [reply for reply in replies if reply.status_code == 201]
    assert len(winners) == 1
    assert {(reply.status_code, error_code(reply)) for reply in replies if reply.status_code != 201} == {
        (409, "ORDER_DUPLICATE")}
    [purchase] = purchase_rows(app, "ORDER-RACE")
    assert purchase.amount_fen == winners[0].json["amount_fen"]
    assert points_entries(app, shopper) == [("purchase", purchase.amount_fen // 100)]
    with app.app_context():
        assert assert_ledger_consistent(shopper)["growth"] == purchase.amount_fen // 100


def test_concurrent_first_logins_with_one_code_create_one_member(app, world, monkeypatch):
    """50 first logins with the same wx.login code at once: one member, created once, and
    every caller is logged in as that member."""
    monkeypatch.setitem(app.config, "LOGIN_RATE", "1000/minute")  # the limit is not what is tested here
    replies = run_in_threads(50, lambda i: Caller(app).post("/api/v1/auth/member/login", json={"code": "twin"}))

    assert {reply.status_code for reply in replies} == {200}
    with app.app_context():
        [member_id] = db.session.execute(
            select(Member.id).where(Member.openid == "fake-openid-twin")).scalars().all()
    assert {reply.json["member_id"] for reply in replies} == {member_id}
    assert sum(reply.json["created"] for reply in replies) == 1


def test_concurrent_refunds_of_one_purchase_never_refund_more_than_was_bought(app, world, shopper):
    """20 refunds of ¥15 race on a ¥100 purchase: exactly six fit, the rest are refused with
    REFUND_EXCEEDS_PURCHASE, and the points and growth reversed stay within what it earned."""
    purchase = bought(world.staff("clerk-a"), shopper, 10_000)
    manager = world.staff("manager-a")
    replies = run_in_threads(20, lambda i: refund(manager, purchase["id"], 1_500, refund_no=f"R-{i}"))

    accepted = [reply for reply in replies if reply.status_code == 201]
    assert len(accepted) == 6
    assert {(reply.status_code, error_code(reply)) for reply in replies if reply.status_code != 201} == {
        (409, "REFUND_EXCEEDS_PURCHASE")}
    with app.app_context():
        row = db.session.get(Purchase, purchase["id"])
        refunds = db.session.execute(select(Refund).where(Refund.purchase_id == row.id)).scalars().all()
        assert row.refunded_fen == sum(r.amount_fen for r in refunds) == 9_000
        assert sum(r.points_reversed for r in refunds) == 90
        assert sum(r.growth_reversed for r in refunds) == 90
        state = assert_ledger_consistent(shopper)
    assert (state["balance"], state["growth"]) == (10, 10)


def test_concurrent_refunds_with_one_refund_number_refund_once(app, world, shopper):
    """The same refund sent 20 times at once is recorded once; every caller gets it back."""
    purchase = bought(world.staff("clerk-a"), shopper, 10_000)
    manager = world.staff("manager-a")
    refund_no = f"R-{uuid.uuid4().hex[:8]}"
    replies = run_in_threads(20, lambda i: refund(manager, purchase["id"], 2_000, refund_no=refund_no))

    assert {reply.status_code for reply in replies} == {201}
    assert len({reply.json["id"] for reply in replies}) == 1
    with app.app_context():
        assert db.session.get(Purchase, purchase["id"]).refunded_fen == 2_000
        assert assert_ledger_consistent(shopper)["balance"] == 80
