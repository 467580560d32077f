"""Tier review (保级): held for a period, kept on growth earned, else one level down; warnings before."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from app.batches import run_batches
from app.extensions import db
from app.member_row import Member
from app.members import service as members
from app.members.models import TierChange, TierReview
from app.members.tier_review import add_months, last_start_due, review_due, warn_upcoming
from app.messaging.models import OutboxEvent
from app.points import service as ledger
from tests.helpers import assert_ledger_consistent, run_in_threads
from tests.jobs_helpers import new_member

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("start, months, review", [
    (date(2025, 3, 10), 12, date(2026, 3, 10)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),  # reached on a leap day
    (date(2027, 2, 28), 12, date(2028, 2, 28)),
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2027, 1, 31), 13, date(2028, 2, 29)),
    (date(2025, 12, 31), 2, date(2026, 2, 28)),
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
])
def test_review_dates_count_calendar_months(start, months, review):
    assert add_months(start, months) == review
    # the latest start reviewed by that day is this start (or a later day of a longer month)
    latest = last_start_due(review, months)
    assert latest >= start and add_months(latest, months) <= review
    assert add_months(date.fromordinal(latest.toordinal() + 1), months) > review


def grow(member_id: int, delta: int, key: str, at: datetime):
    with time_machine.travel(at, tick=False):
        members.change_growth(member_id, delta, ledger.Posting(kind="test", key=key))
        db.session.commit()


def gold_member(world, code="alice", since=local(2025, 3, 10, 14, 0)) -> int:
    """A member who reached 金卡 (5000) at `since`."""
    member_id = new_member(code)
    grow(member_id, 5200, f"{code}:reach", since)
    assert db.session.get(Member, member_id).tier_id == world.tiers["金卡"]
    return member_id


def review_on(day: datetime) -> dict:
    with time_machine.travel(day, tick=False):
        return run_batches(review_due())


def tier_events(kind: str) -> list[dict]:
    return [e.payload for e in db.session.execute(
        select(OutboxEvent).where(OutboxEvent.kind == kind).order_by(OutboxEvent.id)).scalars()]


def test_enough_growth_in_the_period_keeps_the_tier_for_another_period(app, world, ctx):
    member_id = gold_member(world)
    grow(member_id, 5000, "within", local(2025, 9, 1, 10))

    assert review_on(local(2026, 3, 9, 23, 59)) == {"retained": 0, "downgraded": 0}  # not its day yet
    assert review_on(local(2026, 3, 10, 0, 15)) == {"retained": 1, "downgraded": 0}
    db.session.expire_all()
    member = db.session.get(Member, member_id)
    assert member.tier_id == world.tiers["金卡"] and member.tier_since == local(2026, 3, 10)
    assert tier_events("tier_downgraded") == []
    assert review_on(local(2026, 3, 10, 9)) == {"retained": 0, "downgraded": 0}


def test_too_little_growth_falls_one_level_and_rebases_growth(app, world, ctx):
    member_id = gold_member(world)
    grow(member_id, 800, "within", local(2025, 9, 1, 10))

    assert review_on(local(2026, 3, 10, 0, 15)) == {"retained": 0, "downgraded": 1}
    db.session.expire_all()
    member = db.session.get(Member, member_id)
    assert (member.tier_id, member.growth, member.tier_since) == (world.tiers["银卡"], 1000, local(2026, 3, 10))
    change = db.session.execute(select(TierChange).where(TierChange.reason == "tier_review")).scalar_one()
    assert (change.from_tier_id, change.to_tier_id) == (world.tiers["金卡"], world.tiers["银卡"])
    assert tier_events("tier_downgraded") == [{"from": "金卡", "to": "银卡", "reason": "tier_review",
                                               "review_on": "2026-03-10", "growth": 800, "threshold": 5000}]
    assert_ledger_consistent(member_id)

    grow(member_id, 100, "after", local(2026, 3, 11, 10))  # the next purchase does not undo the review
    db.session.expire_all()
    assert db.session.get(Member, member_id).tier_id == world.tiers["银卡"]


@pytest.fixture
def tier_changes(app, world, monkeypatch):
    """What a subscriber of `member.tier_changed` hears, as (from tier, to tier, reason, the member's tier then)."""
    names = {tier_id: name for name, tier_id in world.tiers.items()}
    heard = []

    def listen(member, change):
        heard.append((names[change.from_tier_id], names[change.to_tier_id], change.reason, member.tier.name))

    handlers = app.extensions["events"]  # the app's subscribers (app/subscribers.py), and this one after them
    monkeypatch.setitem(handlers, "member.tier_changed", [*handlers["member.tier_changed"], listen])
    return heard


def test_every_tier_change_is_announced_the_review_downgrade_too(app, world, ctx, tier_changes):
    member_id = gold_member(world)
    assert tier_changes == [("普通", "金卡", "test", "金卡")]
    assert tier_events("tier_upgraded") == [{"from": "普通", "to": "金卡", "reason": "test"}]

    review_on(local(2026, 3, 10, 0, 15))
    assert tier_changes[1:] == [("金卡", "银卡", "tier_review", "银卡")]
    change = db.session.execute(select(TierChange).where(TierChange.reason == "tier_review")).scalar_one()
    assert (change.member_id, change.created_at) == (member_id, local(2026, 3, 10))


def test_an_upgrade_during_the_period_starts_a_new_one(app, world, ctx):
    member_id = gold_member(world)
    grow(member_id, 15000, "diamond", local(2025, 12, 1, 10))  # 20200: 钻石

    assert review_on(local(2026, 3, 10, 0, 15)) == {"retained": 0, "downgraded": 0}
    assert review_on(local(2026, 12, 1, 0, 15)) == {"retained": 0, "downgraded": 1}
    db.session.expire_all()
    assert db.session.get(Member, member_id).tier_id == world.tiers["金卡"]


def test_the_earned_policy_falls_to_the_tier_the_growth_reaches(app, world, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "TIER_DOWNGRADE", "earned")
    member_id = new_member("alice")
    grow(member_id, 20000, "reach", local(2025, 3, 10, 14))
    grow(member_id, 1500, "within", local(2025, 6, 1, 10))

    review_on(local(2026, 3, 10, 0, 15))
    db.session.expire_all()
    assert db.session.get(Member, member_id).tier_id == world.tiers["银卡"]


def test_a_held_tier_reached_on_a_leap_day_is_reviewed_on_28_february(app, world, ctx):
    gold_member(world, since=local(2024, 2, 29, 20))
    assert review_on(local(2025, 2, 27, 12)) == {"retained": 0, "downgraded": 0}
    assert review_on(local(2025, 2, 28, 0, 15)) == {"retained": 0, "downgraded": 1}
    assert db.session.execute(select(TierReview.due_on)).scalars().all() == [date(2025, 2, 28)]


def test_the_entry_tier_is_never_reviewed(app, world, ctx):
    new_member("alice")
    assert review_on(local(2030, 1, 1, 1)) == {"retained": 0, "downgraded": 0}


def test_two_reviews_at_once_review_each_member_once(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "TIER_REVIEW_BATCH", 3)
    with app.app_context():
        ids = [gold_member(world, f"m{i}") for i in range(12)]

    def run(_):
        with app.app_context():
            return review_on(local(2026, 3, 10, 0, 15))

    results = run_in_threads(2, run)
    assert sum(r["downgraded"] for r in results) == 12, results
    with app.app_context():
        assert len(db.session.execute(select(TierReview)).scalars().all()) == 12
        assert len(tier_events("tier_downgraded")) == 12
        for member_id in ids:
            assert assert_ledger_consistent(member_id)["growth"] == 1000


def test_a_warning_goes_out_once_before_a_review_that_would_downgrade(app, world, ctx):
    falling, keeping = gold_member(world, "falling"), gold_member(world, "keeping")
    grow(keeping, 5000, "keeping:within", local(2025, 9, 1, 10))

    with time_machine.travel(local(2026, 2, 7, 10), tick=False):  # 31 days before
        assert run_batches(warn_upcoming()) == {"warned": 0}
    with time_machine.travel(local(2026, 2, 8, 10), tick=False):  # 30 days before
        assert run_batches(warn_upcoming()) == {"warned": 1}
        assert run_batches(warn_upcoming()) == {"warned": 0}
    with time_machine.travel(local(2026, 3, 1, 10), tick=False):
        assert run_batches(warn_upcoming()) == {"warned": 0}
    assert tier_events("tier_downgrade_warning") == [
        {"tier": "金卡", "falls_to": "银卡", "review_on": "2026-03-10", "days_left": 30, "growth": 0,
         "growth_needed": 5000}]
    assert db.session.execute(select(OutboxEvent.member_id).where(OutboxEvent.kind == "tier_downgrade_warning")
                              ).scalars().all() == [falling]
