"""Scheduled points expiry (set-based, once per lot) and the reminders before it."""
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import String, cast, event, func, insert, literal, select, update

from app.batches import run_batches
from app.clock import now
from app.extensions import db
from app.member_row import Member
from app.members.tiers import entry_tier
from app.messaging.models import OutboxEvent
from app.points import service as ledger
from app.points.expiry import expire_overdue, remind_expiring
from app.points.models import LedgerEntry, PointLot
from tests.helpers import assert_ledger_consistent, run_in_threads
from tests.jobs_helpers import new_member

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2028, 2, 29)  # a leap day, in the business zone


def at_local(day: date, hour: int = 12):
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def credit(member_id: int, amount: int, expires_on: date, key: str):
    ledger.credit_points(member_id, amount, ledger.Posting(kind="test", key=key), expires_on=expires_on)


def expiry_entries() -> list[tuple]:
    return db.session.execute(select(LedgerEntry.ref, LedgerEntry.delta).where(LedgerEntry.kind == "expire")
                              .order_by(LedgerEntry.ref)).all()


def test_overdue_lots_expire_once_each_with_a_ledger_entry(app, world, ctx):
    member_id = new_member("alice")
    credit(member_id, 100, TODAY - timedelta(days=1), "a")
    credit(member_id, 50, TODAY - timedelta(days=400), "b")
    credit(member_id, 30, TODAY, "c")  # its last day is today: still good
    ledger.debit_points(member_id, 60, ledger.Posting(kind="spend", key="s"))  # draws the oldest lot first
    db.session.commit()

    with time_machine.travel(at_local(TODAY), tick=False):
        assert run_batches(expire_overdue()) == {"members": 1, "lots": 1, "points": 90}
        assert run_batches(expire_overdue()) == {"members": 0, "lots": 0, "points": 0}

    lot = db.session.execute(select(PointLot).where(PointLot.amount == 100)).scalar_one()
    assert expiry_entries() == [(f"lot:{lot.id}", -90)]
    state = assert_ledger_consistent(member_id)
    assert state["balance"] == 30


def test_nothing_expires_before_the_local_day_is_over(app, world, ctx):
    member_id = new_member("alice")
    credit(member_id, 100, TODAY, "a")
    db.session.commit()
    # 23:59 on the 29th in Shanghai is 15:59 UTC: the lot's last day is not over
    with time_machine.travel(datetime(2028, 2, 29, 15, 59, tzinfo=ZoneInfo("UTC")), tick=False):
        assert run_batches(expire_overdue())["lots"] == 0
    with time_machine.travel(datetime(2028, 2, 29, 16, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        assert run_batches(expire_overdue())["lots"] == 1
    assert assert_ledger_consistent(member_id)["balance"] == 0


def many_lots(members: int, lots_each: int, expires_on: date) -> list[int]:
    """Members with open lots, written set-based (as a bulk import would) with their ledger:
    lot n of each member holds 10 + n points."""
    tier_id = entry_tier().id
    db.session.execute(insert(Member), [{"openid": f"many-{i}", "card_no": f"7{i:015d}", "code_secret": "00" * 20,
                                         "tier_id": tier_id} for i in range(members)])
    many = Member.openid.like("many-%")
    for n in range(lots_each):
        db.session.execute(insert(LedgerEntry).from_select(
            ["member_id", "account", "delta", "kind", "idempotency_key", "created_at"],
            select(Member.id, literal("points"), literal(10 + n), literal("test"),
                   literal(f"many:{n}:") + cast(Member.id, String), literal(now(), LedgerEntry.created_at.type))
            .where(many)))
    db.session.execute(insert(PointLot).from_select(
        ["member_id", "entry_id", "amount", "remaining", "expires_on"],
        select(LedgerEntry.member_id, LedgerEntry.id, LedgerEntry.delta, LedgerEntry.delta,
               literal(expires_on, PointLot.expires_on.type)).where(LedgerEntry.idempotency_key.like("many:%"))))
    total = (select(func.sum(LedgerEntry.delta)).where(LedgerEntry.member_id == Member.id).scalar_subquery())
    db.session.execute(update(Member).where(many).values(points_balance=total))
    db.session.commit()
    return db.session.execute(select(Member.id).where(many).order_by(Member.id)).scalars().all()


def test_two_expiry_runs_at_once_expire_each_lot_once(app, world, monkeypatch, is_postgres):
    """Run twice in parallel: each lot once, balances reconcile. 100,000 lots on PostgreSQL
    (the runs really overlap there); SQLite serializes them, so 2,000 in small batches."""
    members = 20_000 if is_postgres else 400
    monkeypatch.setitem(app.config, "POINTS_EXPIRY_BATCH", 1000 if is_postgres else 50)
    with app.app_context():
        ids = many_lots(members=members, lots_each=5, expires_on=TODAY - timedelta(days=1))

    def run(_):
        with app.app_context(), time_machine.travel(at_local(TODAY), tick=False):
            return run_batches(expire_overdue())

    first, second = run_in_threads(2, run)

    assert first["lots"] + second["lots"] == members * 5, (first, second)
    if is_postgres:  # both runs took batches (SQLite runs one writer at a time)
        assert first["lots"] and second["lots"], (first, second)
    with app.app_context():
        refs = db.session.execute(select(LedgerEntry.ref).where(LedgerEntry.kind == "expire")).scalars().all()
        assert len(refs) == len(set(refs)) == members * 5
        assert db.session.execute(select(func.sum(PointLot.remaining))).scalar_one() == 0
        for member_id in ids[::37]:
            assert assert_ledger_consistent(member_id)["balance"] == 0
        assert db.session.execute(select(func.count()).where(Member.points_balance != 0)).scalar_one() == 0


def test_expiry_and_spending_at_once_keep_the_ledger_consistent(app, world):
    """Lock order member before lots: spends racing the sweep neither deadlock nor double-count."""
    with app.app_context():
        ids = many_lots(members=40, lots_each=3, expires_on=TODAY - timedelta(days=1))
        for member_id in ids:
            credit(member_id, 100, TODAY + timedelta(days=30), f"fresh:{member_id}")
        db.session.commit()

    def work(i):
        with app.app_context(), time_machine.travel(at_local(TODAY), tick=False):
            if i == 0:
                return run_batches(expire_overdue())
            for member_id in ids[i - 1::2]:
                ledger.debit_points(member_id, 40, ledger.Posting(kind="spend", key=f"spend:{member_id}"))
                db.session.commit()
            return None

    results = run_in_threads(3, work)
    assert not any(isinstance(result, Exception) for result in results), results
    with app.app_context():
        for member_id in ids:
            assert assert_ledger_consistent(member_id)["balance"] == 60
        refs = db.session.execute(select(LedgerEntry.ref).where(LedgerEntry.kind == "expire")).scalars().all()
        assert len(refs) == len(set(refs)) == 120


def reminders() -> list[tuple]:
    return sorted((event.member_id, event.payload["expires_on"], event.payload["offset_days"],
                   event.payload["points"], event.payload["days_left"])
                  for event in db.session.execute(select(OutboxEvent).where(OutboxEvent.kind == "points_expiring"))
                  .scalars())


def test_reminders_go_out_once_per_date_and_offset(app, world, ctx):
    alice, bob = new_member("alice"), new_member("bob")
    credit(alice, 100, date(2028, 3, 30), "a1")  # 30 days after the leap day
    credit(alice, 20, date(2028, 3, 30), "a2")
    credit(alice, 40, date(2028, 3, 10), "a3")  # 10 days
    credit(bob, 70, date(2028, 3, 5), "b1")  # 5 days: inside the 7-day window at once
    credit(bob, 70, date(2028, 3, 31), "b2")  # 31 days: not yet
    db.session.commit()

    with time_machine.travel(at_local(TODAY), tick=False):
        assert run_batches(remind_expiring()) == {"within_30_days": 2, "within_7_days": 1}
        assert run_batches(remind_expiring()) == {"within_30_days": 0, "within_7_days": 0}
    assert reminders() == [(alice, "2028-03-10", 30, 40, 10), (alice, "2028-03-30", 30, 120, 30),
                           (bob, "2028-03-05", 7, 70, 5)]

    with time_machine.travel(at_local(date(2028, 3, 3)), tick=False):
        assert run_batches(remind_expiring()) == {"within_30_days": 1, "within_7_days": 1}
    assert reminders()[-2:] == [(bob, "2028-03-05", 7, 70, 5), (bob, "2028-03-31", 30, 70, 28)]
    assert (alice, "2028-03-10", 7, 40, 7) in reminders()


def test_reminders_up_to_three_months_ahead_are_an_option(app, world, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "POINTS_EXPIRY_REMINDER_DAYS", "90,30,7")
    alice = new_member("alice")
    credit(alice, 100, date(2028, 5, 28), "a")  # 89 days after the leap day
    db.session.commit()
    with time_machine.travel(at_local(TODAY), tick=False):
        assert run_batches(remind_expiring()) == {"within_90_days": 1, "within_30_days": 0, "within_7_days": 0}


def test_spent_or_expired_points_get_no_reminder(app, world, ctx):
    alice = new_member("alice")
    credit(alice, 100, date(2028, 3, 10), "a")
    ledger.debit_points(alice, 100, ledger.Posting(kind="spend", key="s"))
    db.session.commit()
    with time_machine.travel(at_local(TODAY), tick=False):
        assert run_batches(remind_expiring()) == {"within_30_days": 0, "within_7_days": 0}


def test_two_reminder_runs_at_once_remind_once(app, world):
    with app.app_context():
        many_lots(members=200, lots_each=2, expires_on=TODAY + timedelta(days=6))

    def run(_):
        with app.app_context(), time_machine.travel(at_local(TODAY), tick=False):
            return run_batches(remind_expiring())["within_7_days"]

    assert sum(run_in_threads(2, run)) == 200
    with app.app_context():
        assert len(reminders()) == 200


def test_reminders_end_whatever_the_databases_datestyle(app, world, is_postgres):
    """The reminder key is built from the date's parts, not from a cast to text that
    follows the session's DateStyle: under 'SQL, DMY' the job once found the same lots
    again and again, for ever."""
    if not is_postgres:
        pytest.skip("DateStyle is a PostgreSQL setting")

    def dmy(connection, _):
        with connection.cursor() as cursor:
            cursor.execute("SET datestyle = 'SQL, DMY'")

    with app.app_context():
        alice = new_member("alice")
        credit(alice, 100, date(2028, 3, 5), "a")
        db.session.commit()
        db.engine.dispose()  # new connections, each set by the listener
        event.listen(db.engine, "connect", dmy)
    outcome = []

    def run():
        with app.app_context(), time_machine.travel(at_local(TODAY), tick=False):
            outcome.append(run_batches(remind_expiring()))

    job = threading.Thread(target=run, daemon=True)
    try:
        job.start()
        job.join(timeout=30)
        assert not job.is_alive(), "the reminder job did not end"
    finally:
        with app.app_context():
            event.remove(db.engine, "connect", dmy)
            db.engine.dispose()
    assert outcome == [{"within_30_days": 0, "within_7_days": 1}]
    with app.app_context():
        assert reminders() == [(alice, "2028-03-05", 7, 100, 5)]
