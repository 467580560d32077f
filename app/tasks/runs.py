"""Every scheduled run recorded in `job_runs`, with its business day, outcome and counts."""
import functools
from collections.abc import Callable

from sqlalchemy import update

from app.clock import now, one_business_day, today
from app.db_helpers import newest_first
from app.extensions import db
from app.tasks.models import FAILED, OK, RUNNING, JobRun


def recorded(name: str, only_when_busy: bool = False) -> Callable:
    """Record each run of the job (a row when it starts, completed when it ends), and commit
    the job's work before its run is recorded complete; on an error, roll it back.

    `only_when_busy`: for the outbox dispatcher, which runs every few seconds and after
    every commit with events: only its runs that moved something are recorded (one row).
    `run_id`: the run an operator asked for (app/tasks/run_now.py), recorded queued; this run is it.
    """

    def wrap(job: Callable[[], dict]) -> Callable[[], dict]:
        @functools.wraps(job)
        def run(run_id: int | None = None) -> dict:
            with one_business_day():  # the run's business day, even if it crosses local midnight
                if run_id is not None:
                    _begin(run_id)
                elif not only_when_busy:
                    run_id = _start(name)
                started = now()
                try:
                    counts = job()
                    db.session.commit()
                except Exception as error:
                    db.session.rollback()
                    _end(run_id or _start(name, started), FAILED, {}, f"{type(error).__name__}: {error}"[:500])
                    raise
                if run_id is not None or any(counts.values()):
                    _end(run_id or _start(name, started), OK, counts)
                return counts

        return run

    return wrap


def _start(name: str, started=None) -> int:
    run = JobRun(job=name, business_date=today(), status=RUNNING, counts={}, started_at=started or now())
    db.session.add(run)
    db.session.commit()
    return run.id


def _begin(run_id: int) -> None:
    """A queued run starts (again, if a worker died in it: the job is idempotent)."""
    db.session.execute(update(JobRun).where(JobRun.id == run_id).values(
        status=RUNNING, business_date=today(), started_at=now()))
    db.session.commit()


def _end(run_id: int, status: str, counts: dict, error: str | None = None) -> None:
    db.session.execute(update(JobRun).where(JobRun.id == run_id).values(
        status=status, counts=counts, error=error, finished_at=now()))
    db.session.commit()


def runs_page(job: str | None, before_id: int | None, limit: int) -> list[JobRun]:
    """Runs newest first, optionally of one job."""
    return newest_first(JobRun, before_id, limit, job=job)


def fail_unqueued(run_id: int, error: str) -> None:
    """A run asked for that could not be queued (Redis down) reads failed, with why."""
    _end(run_id, FAILED, {}, error)
