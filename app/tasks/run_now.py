""""Run now": an operator runs a scheduled job out of its schedule (the console's 任务 page,
POST /api/v1/admin/jobs/{name}/runs). It is the same idempotent job the schedule runs: a
run now and the scheduled run after it both do only what is due, and nothing twice.

The run is recorded queued, named after the operator, in the request's transaction; once
that has committed, `start` enqueues it on RQ (REDIS_URL set; a worker runs it) or runs it
here and now (the embedded default). Enqueued only after the commit: a worker never looks
for a run that is not there yet.
"""
from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select

from app.clock import now, today
from app.errors import RETRY_AFTER_SECONDS, AppError, JobError, RequestError
from app.extensions import db
from app.tasks.models import QUEUED, JobRun
from app.tasks.queue import get_queue, run_inline
from app.tasks.runs import fail_unqueued
from app.tasks.schedule import Scheduled, schedule


def scheduled_jobs() -> dict[str, Scheduled]:
    return {entry.name: entry for entry in schedule(current_app.config)}


def request_run(name: str, started_by: str) -> JobRun:
    """Record a run of job `name` asked for by `started_by`, queued (start it after the commit)."""
    if name not in scheduled_jobs():
        raise AppError(JobError.JOB_NOT_FOUND)
    run = JobRun(job=name, business_date=today(), status=QUEUED, counts={}, started_at=now(), started_by=started_by)
    db.session.add(run)
    db.session.flush()
    return run


def start(run_id: int) -> None:
    """Enqueue (or, without Redis, run) a committed queued run. With Redis down the run reads
    failed, and SERVICE_UNAVAILABLE: ask again (the job itself is harmless twice)."""
    run = db.session.get(JobRun, run_id)
    job = scheduled_jobs()[run.job].job
    queue = get_queue()
    if queue is None:
        run_inline(job, run_id)
        return
    try:
        queue.enqueue(job, run_id, job_timeout=current_app.config["SCHEDULED_JOB_TIMEOUT"], result_ttl=0)
    except RedisError as error:
        fail_unqueued(run_id, f"queue unavailable: {error}"[:500])
        raise AppError(RequestError.SERVICE_UNAVAILABLE, details={"retry_after": RETRY_AFTER_SECONDS}) from error


def last_runs() -> list[dict]:
    """Each scheduled job, its schedule, and its latest run (None if it never ran): one indexed
    look-up per job (ix_job_runs_job_started_at), however many runs are kept."""
    return [{"name": name, "cron": entry.cron, "interval": entry.interval,
             "last_run": db.session.execute(select(JobRun).where(JobRun.job == name)
                                            .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1))
             .scalar_one_or_none()}
            for name, entry in scheduled_jobs().items()]
