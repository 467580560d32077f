"""The points ledger: lots, expiry order, negative balance, and its invariants."""
from datetime import date

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.errors import AppError
from app.extensions import db
from app.member_row import Member
from app.members import service as members
from app.points import service as ledger
from app.points.models import LedgerEntry, LotConsumption, PointLot
from tests.helpers import assert_ledger_consistent

# Noon in Shanghai, so "today" is the same business day in UTC and locally.
NOON = "2026-06-15T04:00:00+00:00"


def posting(key, kind="test"):
    return ledger.Posting(kind=kind, key=key)


@pytest.fixture
def member_id(world, ctx):
    member, _ = members.get_or_create("openid-ledger", None)
    db.session.commit()
    return member.id


def lots(member_id):
    return db.session.execute(
        select(PointLot.expires_on, PointLot.remaining).where(PointLot.member_id == member_id).order_by(PointLot.id)
    ).all()


@time_machine.travel(NOON, tick=False)
def test_credit_opens_a_lot_expiring_per_policy(member_id):
    ledger.credit_points(member_id, 100, posting("c1"))
    assert lots(member_id) == [(date(2027, 12, 31), 100)]  # default policy year_end:1
    assert assert_ledger_consistent(member_id)["balance"] == 100


@time_machine.travel(NOON, tick=False)
def test_debit_draws_earliest_expiry_first_and_records_what_it_drew(member_id):
    ledger.credit_points(member_id, 100, posting("late"), expires_on=date(2027, 12, 31))
    ledger.credit_points(member_id, 50, posting("early"), expires_on=date(2026, 7, 1))
    ledger.credit_points(member_id, 30, posting("middle"), expires_on=date(2026, 12, 31))
    entry_id = ledger.debit_points(member_id, 70, posting("spend"))
    assert lots(member_id) == [(date(2027, 12, 31), 100), (date(2026, 7, 1), 0), (date(2026, 12, 31), 10)]
    drawn = db.session.execute(select(LotConsumption.amount).where(LotConsumption.entry_id == entry_id)
                               .order_by(LotConsumption.id)).scalars().all()
    assert drawn == [50, 20]
    assert_ledger_consistent(member_id)


@time_machine.travel(NOON, tick=False)
def test_debit_beyond_balance_fails_and_writes_nothing(member_id):
    ledger.credit_points(member_id, 10, posting("c"))
    ledger.credit_points(member_id, 3, posting("lapsed"), expires_on=date(2026, 6, 1))
    db.session.commit()
    with pytest.raises(AppError) as error:
        ledger.debit_points(member_id, 11, posting("too-much"))
    assert error.value.code == "POINTS_INSUFFICIENT"
    assert error.value.details == {"balance": 10, "required": 11}
    db.session.commit()  # checked before any write: nothing to roll back, not even the lapsed lot's expiry
    assert assert_ledger_consistent(member_id)["balance"] == 13
    assert db.session.execute(select(LedgerEntry.idempotency_key).where(
        LedgerEntry.member_id == member_id).order_by(LedgerEntry.id)).scalars().all() == ["c", "lapsed"]


def test_expired_points_cannot_be_spent(member_id):
    with time_machine.travel("2026-06-30T15:59:00+00:00", tick=False):  # 23:59 on 30 June in Shanghai
        ledger.credit_points(member_id, 40, posting("old"), expires_on=date(2026, 6, 30))
        ledger.credit_points(member_id, 5, posting("new"), expires_on=date(2027, 6, 30))
        assert ledger.summary(db.session.get(Member, member_id)).usable == 45
        db.session.commit()
    with time_machine.travel("2026-06-30T16:00:01+00:00", tick=False):  # 00:00:01 on 1 July in Shanghai
        member = db.session.get(Member, member_id)
        assert ledger.summary(member).usable == 5  # shown without the lapsed lot before any sweep
        with pytest.raises(AppError) as error:
            ledger.debit_points(member_id, 6, posting("spend"))
        assert error.value.details["balance"] == 5
        db.session.rollback()
        ledger.debit_points(member_id, 5, posting("spend-ok"))
        kinds = db.session.execute(select(LedgerEntry.kind, LedgerEntry.delta).where(
            LedgerEntry.member_id == member_id).order_by(LedgerEntry.id)).all()
        assert kinds == [("test", 40), ("test", 5), ("expire", -40), ("test", -5)]
        assert_ledger_consistent(member_id)


@time_machine.travel(NOON, tick=False)
def test_clawback_leaves_a_negative_balance_that_later_credits_pay_first(member_id):
    ledger.credit_points(member_id, 30, posting("c1"))
    ledger.debit_points(member_id, 20, posting("spend"))
    ledger.debit_points(member_id, 25, posting("claw"), allow_negative=True)
    state = assert_ledger_consistent(member_id)
    assert (state["balance"], state["open_lots"]) == (-15, 0)
    ledger.credit_points(member_id, 10, posting("c2"))
    assert assert_ledger_consistent(member_id)["balance"] == -5
    assert [remaining for _, remaining in lots(member_id)] == [0]  # the 10 paid debt, no new lot
    ledger.credit_points(member_id, 8, posting("c3"))
    assert [remaining for _, remaining in lots(member_id)] == [0, 3]
    assert assert_ledger_consistent(member_id)["balance"] == 3


@time_machine.travel(NOON, tick=False)
def test_the_same_key_posts_once(member_id):
    first = ledger.credit_points(member_id, 10, posting("once"))
    again = ledger.credit_points(member_id, 10, posting("once"))
    assert first == again
    assert assert_ledger_consistent(member_id)["balance"] == 10


def test_ledger_entries_are_never_updated_by_the_services():
    """Append-only by construction: no service issues an UPDATE or DELETE on entries."""
    import inspect

    from app.points import service

    source = inspect.getsource(service)
    assert "update(LedgerEntry" not in source and "delete(LedgerEntry" not in source


operations = st.lists(
    st.one_of(
        st.tuples(st.just("credit"), st.integers(1, 500), st.integers(0, 800)),  # amount, days to expiry
        st.tuples(st.just("debit"), st.integers(1, 500), st.just(0)),
        st.tuples(st.just("claw"), st.integers(1, 300), st.just(0)),
    ),
    min_size=1, max_size=25,
)


@time_machine.travel(NOON, tick=False)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_lots_follow_a_reference_model(app, world, ops):
    """Against a plain-Python model: lots drawn by (expiry, id), debt paid first, never below zero."""
    with app.app_context():
        member, _ = members.get_or_create(f"openid-prop-{id(ops)}", None)
        model_lots, balance = [], 0  # [expiry offset, id, remaining]
        for i, (op, amount, days) in enumerate(ops):
            if op == "credit":
                ledger.credit_points(member.id, amount, posting(f"{member.id}-{i}"),
                                     expires_on=date.fromordinal(date(2026, 6, 15).toordinal() + days))
                debt_paid = min(max(-balance, 0), amount)
                if amount - debt_paid:
                    model_lots.append([days, i, amount - debt_paid])
                balance += amount
            elif op == "debit" and amount > balance:
                with pytest.raises(AppError):
                    with db.session.begin_nested():
                        ledger.debit_points(member.id, amount, posting(f"{member.id}-{i}"))
                continue
            else:
                ledger.debit_points(member.id, amount, posting(f"{member.id}-{i}"), allow_negative=op == "claw")
                left = amount
                for lot in sorted(model_lots):
                    take = min(lot[2], left)
                    lot[2] -= take
                    left -= take
                balance -= amount
        actual = sorted(remaining for _, remaining in lots(member.id) if remaining)
        assert actual == sorted(lot[2] for lot in model_lots if lot[2])
        assert assert_ledger_consistent(member.id)["balance"] == balance
        db.session.rollback()
