"""Operators see each scheduled job's latest run and run one now: the same idempotent job,
recorded as started by them, on the RQ workers (REDIS_URL) or in-process without Redis."""
from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.members import service as members
from app.points import service as ledger
from app.tasks.models import JobRun
from app.tasks.schedule import schedule
from tests.api_steps import error_code
from tests.engagement_steps import local
from tests.helpers import Caller, another_app, assert_ledger_consistent
from tests.jobs_helpers import queue_of, run_worker

JOBS = "/api/v1/admin/jobs"


@pytest.fixture
def overdue(app, world):
    """A member whose 100 points were good until 28 February; it is 1 March."""
    with time_machine.travel(local("2026-03-01 10:00"), tick=False), app.app_context():
        member, _ = members.get_or_create("openid-overdue", None)
        member_id = member.id
        ledger.credit_points(member_id, 100, ledger.Posting(kind="adjustment", key="overdue"),
                             expires_on=date(2026, 2, 28))
        db.session.commit()
    return member_id


def jobs_of(admin) -> dict[str, dict]:
    reply = admin.get(JOBS)
    assert reply.status_code == 200, reply.json
    assert reply.json["next_cursor"] is None
    return {job["name"]: job for job in reply.json["items"]}


def operator_scope(app) -> str:
    from app.operators.models import Operator

    with app.app_context():
        return f"admin:{db.session.execute(select(Operator.id)).scalar_one()}"


def test_every_scheduled_job_is_listed_with_its_schedule_and_no_run_yet(app, world):
    jobs = jobs_of(world.admin())
    assert list(jobs) == [entry.name for entry in schedule(app.config)]
    assert (jobs["expire_points"]["cron"], jobs["expire_points"]["last_run"]) == ("5 0 * * *", None)
    assert jobs["dispatch_outbox"]["interval"] == app.config["OUTBOX_DISPATCH_INTERVAL"]


def test_run_now_without_redis_runs_the_job_in_process_as_started_by_the_operator(app, world, overdue):
    with another_app(app, None) as embedded, time_machine.travel(local("2026-03-01 10:05"), tick=False):
        admin = Caller(embedded, world.admin().token)
        reply = admin.post(f"{JOBS}/expire_points/runs")
        assert reply.status_code == 202, reply.json
        assert (reply.json["job"], reply.json["status"], reply.json["started_by"]) == (
            "expire_points", "queued", operator_scope(app))
        last = jobs_of(admin)["expire_points"]["last_run"]
        assert (last["id"], last["status"], last["counts"], last["started_by"]) == (
            reply.json["id"], "ok", {"members": 1, "lots": 1, "points": 100}, operator_scope(app))
        with embedded.app_context():
            assert assert_ledger_consistent(overdue)["balance"] == 0


def test_run_now_on_redis_is_queued_for_the_workers_and_recorded_when_one_runs_it(app, world, overdue):
    admin = world.admin()
    with time_machine.travel(local("2026-03-01 10:05"), tick=False):
        reply = admin.post(f"{JOBS}/expire_points/runs")
        assert reply.status_code == 202, reply.json
        assert jobs_of(admin)["expire_points"]["last_run"]["status"] == "queued"
        assert queue_of(app).count == 1
        run_worker(app)
    last = jobs_of(admin)["expire_points"]["last_run"]
    assert (last["id"], last["status"], last["counts"]) == (reply.json["id"], "ok", {"members": 1, "lots": 1,
                                                                                      "points": 100})
    runs = admin.get("/api/v1/admin/job-runs", query_string={"job": "expire_points"}).json["items"]
    assert [(run["id"], run["started_by"]) for run in runs] == [(reply.json["id"], operator_scope(app))]


def test_a_replayed_key_starts_no_second_run(app, world):
    admin = world.admin()
    headers = {"Idempotency-Key": "run-once"}
    first = admin.post(f"{JOBS}/expire_coupons/runs", headers=headers)
    again = admin.post(f"{JOBS}/expire_coupons/runs", headers=headers)
    assert (first.status_code, again.status_code, again.headers["Idempotent-Replayed"]) == (202, 202, "true")
    assert again.json == first.json
    assert queue_of(app).count == 1
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(JobRun)).scalar_one() == 1


def test_an_unknown_job_is_job_not_found_and_records_nothing(app, world):
    reply = world.admin().post(f"{JOBS}/no_such_job/runs")
    assert (reply.status_code, error_code(reply)) == (404, "JOB_NOT_FOUND")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(JobRun)).scalar_one() == 0


def test_with_redis_down_the_run_reads_failed_and_the_reply_is_503(app, world, spare_redis):
    with another_app(app, spare_redis.url) as down:
        admin = Caller(down, world.admin().token)
        spare_redis.kill()
        reply = admin.post(f"{JOBS}/expire_points/runs")
        assert (reply.status_code, error_code(reply)) == (503, "SERVICE_UNAVAILABLE")
        assert reply.headers["Retry-After"]
        last = jobs_of(admin)["expire_points"]["last_run"]
        assert last["status"] == "failed" and last["error"].startswith("queue unavailable")


def test_members_and_staff_cannot_run_jobs(world):
    for caller in (world.member(), world.staff()):
        reply = caller.post(f"{JOBS}/expire_points/runs")
        assert (reply.status_code, error_code(reply)) == (403, "AUDIENCE_FORBIDDEN")
