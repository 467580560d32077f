"""The jobs' one contract (app/batches.py): no service a job calls commits; a sweep yields
at the end of each batch and `run_batches` (the job) commits there, and after the last."""
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from app.batches import run_batches
from app.extensions import db
from app.idempotency import service as idempotency
from app.mall import benefits, coupon_reminders, coupons
from app.members import tier_review
from app.messaging import outbox
from app.numbers import rollup
from app.points import expiry
from app.points.models import PointLot
from tests.helpers import events_heard
from tests.jobs_helpers import expiring_event, new_member, rolled_up_until
from tests.test_expiry import TODAY, at_local, credit

# every sweep a job in app/tasks/jobs.py runs, by job
SWEEPS = {
    "expire_points": expiry.expire_overdue,
    "remind_points_expiring": expiry.remind_expiring,
    "review_tiers": tier_review.review_due,
    "warn_tier_downgrades": tier_review.warn_upcoming,
    "expire_coupons": coupons.expire_coupons,
    "remind_coupons_expiring": coupon_reminders.remind_expiring,
    "grant_monthly_benefits": benefits.grant_monthly,
    "grant_birthday_benefits": benefits.grant_birthdays,
    "remind_benefits_expiring": benefits.remind_expiring,
    "purge_idempotency_records": idempotency.purge_expired,
    "roll_up_numbers": rollup.roll_up,
    "dispatch_outbox": lambda: outbox.dispatch_pending(lambda message_ids: None),
}


def commits_counted():
    """The sessions committed meanwhile, one per commit."""
    return events_heard(db.session, "after_commit")


def without_commits(sweep) -> dict:
    """Run a sweep to its end as `run_batches` would, but commit nothing: its counts."""
    while True:
        try:
            next(sweep)
        except StopIteration as done:
            return done.value


def overdue_lots(count: int) -> None:
    for n in range(count):
        credit(new_member(f"m{n}"), 100, TODAY - timedelta(days=1), f"lot:{n}")
    db.session.commit()


def points_left() -> int:
    return db.session.execute(select(func.sum(PointLot.remaining))).scalar_one()


def test_no_service_a_job_calls_commits(app, world, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "POINTS_EXPIRY_BATCH", 2)
    rolled_up_until(TODAY - timedelta(days=2))
    overdue_lots(5)
    expiring_event(new_member("reminded"))
    db.session.commit()
    with time_machine.travel(at_local(TODAY), tick=False), commits_counted() as commits:
        counts = {job: without_commits(sweep()) for job, sweep in SWEEPS.items()}
        counts["expire_benefits"] = benefits.expire_unclaimed()
    assert commits == []
    assert counts["expire_points"] == {"members": 5, "lots": 5, "points": 500}
    assert counts["dispatch_outbox"]["events"] == 1
    db.session.rollback()
    assert points_left() == 500  # nothing was committed


def test_a_sweep_is_committed_after_each_batch_and_at_its_end(app, world, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "POINTS_EXPIRY_BATCH", 2)
    overdue_lots(5)
    with time_machine.travel(at_local(TODAY), tick=False), commits_counted() as commits:
        counts = run_batches(expiry.expire_overdue())
    assert (counts, len(commits)) == ({"members": 5, "lots": 5, "points": 500}, 3 + 1)  # batches of 2, 2, 1
    db.session.rollback()
    assert points_left() == 0
