"""Coupons on the clock: the scheduled expiry sweep and the reminder before a coupon expires."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.mall import coupons
from app.mall.models import EXPIRED, ISSUED, USED, Coupon
from app.messaging.models import OutboxEvent
from app.tasks import jobs
from app.tasks.models import JobRun
from tests.helpers import run_in_threads
from tests.jobs_helpers import new_member

SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUED_ON = date(2028, 2, 24)  # valid 6 days counting this one: the last day is the leap day, 1 March is out


def at_local(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def coupon_for(member_id: int, name: str = "十元券", valid_days: int = 6) -> int:
    template = coupons.create_template(name=name, kind="amount_off", amount_off_fen=10_00, valid_days=valid_days)
    with time_machine.travel(at_local(ISSUED_ON), tick=False):
        coupon = coupons.issue_coupon(template.id, member_id, "benefit", actor="system")
    db.session.commit()
    return coupon.id


def expiring_events() -> list[tuple[int, dict]]:
    rows = db.session.execute(select(OutboxEvent.member_id, OutboxEvent.payload)
                              .where(OutboxEvent.kind == "coupon_expiring").order_by(OutboxEvent.id)).all()
    return [tuple(row) for row in rows]


def remind_on(day: date, hour: int = 10) -> dict:
    with time_machine.travel(at_local(day, hour), tick=False):
        return jobs.remind_coupons_expiring()


def test_a_coupon_is_reminded_once_three_days_before_its_last_day(app, world, ctx):
    member_id = new_member("alice")
    coupon_id = coupon_for(member_id)

    assert remind_on(date(2028, 2, 25)) == {"reminded": 0}  # last day in 4 days: not yet
    assert remind_on(date(2028, 2, 26)) == {"reminded": 1}
    assert remind_on(date(2028, 2, 26)) == {"reminded": 0}  # run twice = once
    assert remind_on(date(2028, 2, 28)) == {"reminded": 0}  # nor again on a later day
    assert expiring_events() == [(member_id, {
        "coupon_id": coupon_id, "coupon": "十元券", "value": "10元代金券", "expires_on": "2028-02-29",
        "days_left": 3})]


def test_a_missed_day_is_caught_up_while_the_coupon_is_still_valid(app, world, ctx):
    member_id = new_member("alice")
    coupon_for(member_id)
    assert remind_on(date(2028, 2, 29), hour=23) == {"reminded": 1}  # the job did not run for three days
    assert expiring_events()[0][1]["days_left"] == 0
    assert remind_on(date(2028, 3, 1), hour=0) == {"reminded": 0}


def test_used_expired_and_far_off_coupons_get_no_reminder(app, world, ctx):
    alice, bob, carol = new_member("alice"), new_member("bob"), new_member("carol")
    used = coupon_for(alice)
    coupons.transition(db.session.get(Coupon, used), ISSUED, USED, "staff:1", at_local(ISSUED_ON))
    coupon_for(bob, valid_days=1)  # its only day was 24 February
    coupon_for(carol, valid_days=30)
    db.session.commit()
    assert remind_on(date(2028, 2, 26)) == {"reminded": 0}
    assert expiring_events() == []


def test_the_reminder_window_is_configurable(app, world, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "COUPON_EXPIRY_REMINDER_DAYS", 5)
    member_id = new_member("alice")
    coupon_for(member_id)
    assert remind_on(date(2028, 2, 24)) == {"reminded": 1}
    assert expiring_events()[0][1]["days_left"] == 5


def test_two_reminder_runs_at_once_remind_each_coupon_once(app, world):
    with app.app_context():
        member_ids = [new_member(f"m{i}") for i in range(20)]
        for member_id in member_ids:
            coupon_for(member_id, name=f"券{member_id}")

    def run(_):
        with app.app_context():
            return remind_on(date(2028, 2, 27))["reminded"]

    assert sum(run_in_threads(2, run)) == 20
    with app.app_context():
        assert sorted(member_id for member_id, _ in expiring_events()) == sorted(member_ids)


def test_the_scheduled_sweep_expires_past_coupons_once_and_records_its_run(app, world, ctx):
    member_id = new_member("alice")
    old, fresh = coupon_for(member_id, valid_days=1), coupon_for(member_id, name="三十天券", valid_days=30)
    with time_machine.travel(at_local(date(2028, 2, 25), hour=0), tick=False):
        assert jobs.expire_coupons() == {"expired": 1}
        assert jobs.expire_coupons() == {"expired": 0}
    states = dict(db.session.execute(select(Coupon.id, Coupon.state)).all())
    assert states == {old: EXPIRED, fresh: ISSUED}
    runs = db.session.execute(select(JobRun.job, JobRun.counts).order_by(JobRun.id)).all()
    assert [tuple(run) for run in runs] == [("expire_coupons", {"expired": 1}), ("expire_coupons", {"expired": 0})]
