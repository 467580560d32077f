"""The schedule on a frozen clock: local midnight, month and year ends, a leap day; both the
embedded in-process scheduler and the production `rq cron` configuration."""
import importlib
import os
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import redis as redis_lib
import time_machine
from rq import Queue
from rq.cron import CronScheduler
from sqlalchemy import select

from app.extensions import db
from app.points import service as ledger
from app.points.models import PointLot
from app.tasks.cron import use_business_zone
from app.tasks.inprocess import InProcessScheduler
from app.tasks.models import JobRun
from app.tasks.runs import recorded
from app.tasks.worker import AppWorker
from tests.jobs_helpers import (
    expiring_event,
    log_of,
    new_member,
    pending_events,
    points_rule,
    process_of,
    queue_of,
    readme_command,
    rolled_up_until,
    run_worker,
    wait_for,
)

UTC = timezone.utc
CRON_JOBS = ["expire_points", "review_tiers", "expire_coupons", "expire_benefits", "grant_monthly_benefits",
             "grant_birthday_benefits", "roll_up_numbers", "remind_points_expiring", "warn_tier_downgrades",
             "remind_coupons_expiring", "remind_benefits_expiring", "compute_layers", "purge_idempotency_records"]
INTERVAL_JOBS = {"dispatch_outbox", "run_campaigns", "roll_up_today"}


def lots_left(app) -> dict[date, int]:
    with app.app_context():
        return dict(db.session.execute(select(PointLot.expires_on, PointLot.remaining)).all())


def with_lots(app, *days: date) -> None:
    with app.app_context():
        rolled_up_until(days[0] - timedelta(days=2))
        member_id = new_member("alice")
        for n, day in enumerate(days):
            ledger.credit_points(member_id, 10 + n, ledger.Posting(kind="test", key=f"lot{n}"), expires_on=day)
        db.session.commit()


def runs(app, job: str) -> list[tuple]:
    with app.app_context():
        return [(run.business_date, run.status, run.counts) for run in db.session.execute(
            select(JobRun).where(JobRun.job == job).order_by(JobRun.id)).scalars()]


def cron_jobs_run(scheduler) -> list[str]:
    return [name for name in scheduler.tick() if name in CRON_JOBS]


@pytest.mark.parametrize("last_day", [date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 31), date(2028, 12, 31),
                                      date(2027, 2, 28)])
def test_expiry_runs_just_after_local_midnight_and_expires_the_day_before(app, world, last_day):
    """00:05 in Shanghai is 16:05 UTC the day before: the lot whose last day just ended expires."""
    next_day = last_day + timedelta(days=1)
    with_lots(app, last_day, next_day)
    midnight_utc = datetime(next_day.year, next_day.month, next_day.day, tzinfo=UTC) - timedelta(hours=8)
    with time_machine.travel(midnight_utc - timedelta(hours=1), tick=False) as clock:
        scheduler = InProcessScheduler(app)
        assert cron_jobs_run(scheduler) == CRON_JOBS  # at start everything runs once (catching up)
        clock.move_to(midnight_utc + timedelta(minutes=4, seconds=59))
        assert cron_jobs_run(scheduler) == []
        assert lots_left(app) == {last_day: 10, next_day: 11}
        clock.move_to(midnight_utc + timedelta(minutes=5))
        assert cron_jobs_run(scheduler) == ["expire_points"]
        clock.move_to(midnight_utc + timedelta(minutes=15))
        monthly = ["grant_monthly_benefits"] if next_day.day == 1 else []  # 00:10 on the 1st only
        assert cron_jobs_run(scheduler) == ["review_tiers", *monthly]

    assert lots_left(app) == {last_day: 0, next_day: 11}
    assert runs(app, "expire_points") == [
        (last_day, "ok", {"members": 0, "lots": 0, "points": 0}),
        (next_day, "ok", {"members": 1, "lots": 1, "points": 10})]


def test_reminders_run_in_the_local_morning_once_a_day(app, world):
    with time_machine.travel(datetime(2028, 2, 28, 22, tzinfo=UTC), tick=False) as clock:  # 06:00 on the 29th
        scheduler = InProcessScheduler(app)
        scheduler.tick()
        for hour in (1, 2, 3, 25, 26):  # 09:00, 10:00, 11:00 on the 29th; 09:00, 10:00 on 1 March
            clock.move_to(datetime(2028, 2, 29, 0, tzinfo=UTC) + timedelta(hours=hour))
            scheduler.tick()
    assert [day for day, _, _ in runs(app, "remind_points_expiring")] == [
        date(2028, 2, 29), date(2028, 2, 29), date(2028, 3, 1)]


def test_a_commit_with_events_wakes_the_dispatcher_at_once(app, world):
    with time_machine.travel(datetime(2028, 2, 28, 22, tzinfo=UTC), tick=False) as clock:
        scheduler = InProcessScheduler(app)
        scheduler.tick()
        clock.shift(timedelta(seconds=1))
        assert scheduler.tick() == []
        with app.app_context():
            app.extensions["inprocess_scheduler"] = scheduler  # as `flask serve` does, without Redis
            app.extensions["redis"], redis = None, app.extensions["redis"]
            try:
                points_rule()
                expiring_event(new_member("alice"))
                db.session.commit()
            finally:
                app.extensions["redis"] = redis
                del app.extensions["inprocess_scheduler"]
        assert scheduler.tick() == ["dispatch_outbox"]
    assert [counts["events"] for _, _, counts in runs(app, "dispatch_outbox")] == [1]


@pytest.fixture
def saved_zone():
    """Put the test process's zone back afterwards."""
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.fixture
def scheduler_zone(app, saved_zone):
    """The zone `python -m app.tasks.cron` sets for rq's cron before it loads the schedule."""
    use_business_zone(app.config)


def test_importing_the_cron_schedule_leaves_the_process_zone_alone(saved_zone):
    os.environ["TZ"] = "UTC"
    time.tzset()
    importlib.reload(importlib.import_module("app.tasks.cron_config"))
    assert (os.environ["TZ"], time.tzname) == ("UTC", ("UTC", "UTC"))


def test_rq_cron_enqueues_the_jobs_at_business_local_times(app, world, scheduler_zone):
    with_lots(app, date(2028, 2, 28))
    # timestamps, not aware datetimes: time_machine would set the process's zone to theirs
    with time_machine.travel(datetime(2028, 2, 28, 16, 4, tzinfo=UTC).timestamp()) as clock:
        cron = CronScheduler(connection=queue_of(app).connection)
        cron.load_config_from_file("app.tasks.cron_config")
        jobs = {job.name: job for job in cron.get_jobs()}
        assert set(jobs) == {*INTERVAL_JOBS, *CRON_JOBS}
        assert jobs["dispatch_outbox"].interval == app.config["OUTBOX_DISPATCH_INTERVAL"]
        assert jobs["expire_points"].next_enqueue_time == datetime(2028, 2, 28, 16, 5, tzinfo=UTC)
        assert jobs["remind_points_expiring"].next_enqueue_time == datetime(2028, 2, 29, 2, 0, tzinfo=UTC)
        assert {job.name for job in cron.enqueue_jobs()} == INTERVAL_JOBS

        clock.move_to(datetime(2028, 2, 28, 16, 5, 1, tzinfo=UTC).timestamp())
        # a minute on: the jobs due each minute or more often again (not roll_up_today's five minutes)
        assert {job.name for job in cron.enqueue_jobs()} == {"dispatch_outbox", "run_campaigns", "expire_points"}
        assert jobs["expire_points"].next_enqueue_time == datetime(2028, 2, 29, 16, 5, tzinfo=UTC)
        run_worker(app)

    assert lots_left(app) == {date(2028, 2, 28): 0}
    assert [day for day, _, _ in runs(app, "expire_points")] == [date(2028, 2, 29)]


def test_every_run_is_recorded_and_a_failure_with_its_error(app, world, ctx):
    @recorded("explodes")
    def explodes():
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        explodes()
    (run,) = db.session.execute(select(JobRun).where(JobRun.job == "explodes")).scalars().all()
    assert (run.status, run.error) == ("failed", "RuntimeError: the database went away")
    assert run.finished_at is not None


def test_scheduled_jobs_run_in_a_real_worker_and_idle_dispatches_are_not_recorded(app, world, ctx):
    from app.tasks import jobs

    for name in [*CRON_JOBS, "dispatch_outbox"]:
        queue_of(app).enqueue(getattr(jobs, name))
    run_worker(app)
    assert {name: [status for _, status, _ in runs(app, name)] for name in CRON_JOBS} == {
        name: ["ok"] for name in CRON_JOBS}
    assert runs(app, "dispatch_outbox") == []
    listed = world.admin().get("/api/v1/admin/job-runs", query_string={"job": "expire_points"}).json
    assert [(run["job"], run["status"], run["counts"]) for run in listed["items"]] == [
        ("expire_points", "ok", {"members": 0, "lots": 0, "points": 0})]


def test_the_scheduler_started_as_the_readme_says_rides_out_a_redis_restart(app, world, ctx, spare_redis):
    """Redis dies under the scheduler and comes back empty: the next dispatch is still
    enqueued (every OUTBOX_DISPATCH_INTERVAL, one second here) and a worker runs it."""
    queue = Queue(app.config["RQ_QUEUE"], connection=redis_lib.Redis.from_url(spare_redis.url))

    def dispatch_queued() -> bool:
        return any(job.func_name == "app.tasks.jobs.dispatch_outbox" for job in queue.get_jobs())

    env = {"REDIS_URL": spare_redis.url, "OUTBOX_DISPATCH_INTERVAL": "1"}
    with process_of(readme_command("python -m app.tasks.cron", spare_redis.url), env) as scheduler:
        wait_for(dispatch_queued)
        spare_redis.kill()
        time.sleep(3)  # the scheduler meets the dead Redis
        spare_redis.start()
        wait_for(lambda: scheduler.poll() is not None or dispatch_queued())
        assert scheduler.poll() is None, log_of(scheduler)  # still running, and it enqueued the next dispatch

    points_rule()
    expiring_event(new_member("alice", accepted=1))
    db.session.commit()
    AppWorker([queue], connection=queue.connection, app=app).work(burst=True, logging_level="WARNING")
    assert [counts["events"] for _, _, counts in runs(app, "dispatch_outbox")] == [1]
    assert pending_events() == 0
