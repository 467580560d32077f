"""Where jobs go: the RQ queue on Redis when REDIS_URL is set, else run in this thread.

The embedded default (`make run`, no Redis) runs every job in-process, in the thread
that asks (the in-process scheduler's): the same job functions. A job given retry
intervals that fails is run again after each of them by the in-process scheduler, as
rq's Retry does under a worker with its scheduler.
"""
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from rq import Queue, get_current_job

logger = logging.getLogger(__name__)
_inline = threading.local()  # .run: the InlineRun of the job running in this thread


def get_queue() -> Queue | None:
    redis = current_app.extensions.get("redis")
    return Queue(current_app.config["RQ_QUEUE"], connection=redis) if redis is not None else None


@dataclass
class InlineRun:
    """A job run in-process: an id kept across its retries and the retries it has left,
    what rq's Job tells a job about itself."""

    id: str
    retry_intervals: list[int]

    @property
    def retries_left(self) -> int:
        return len(self.retry_intervals)


def current_run():
    """The job running in this thread: rq's Job, or an InlineRun."""
    return get_current_job() or getattr(_inline, "run", None)


def run_inline(job: Callable, *args, retry_intervals: list[int] = ()) -> None:
    """Run a job now; an error is logged, as a worker would, and does not stop the caller.
    Retries need the in-process scheduler to keep them: without it (a CLI command) this
    run is the last."""
    scheduler = current_app.extensions.get("inprocess_scheduler")
    _run(InlineRun(f"inline-{uuid.uuid4().hex}", list(retry_intervals) if scheduler else []), job, args)


def _run(run: InlineRun, job: Callable, args: tuple) -> None:
    _inline.run = run
    try:
        job(*args)
    except Exception:
        if not run.retry_intervals:
            logger.exception("job %s%r failed", job.__name__, args)
            return
        seconds = run.retry_intervals.pop(0)
        logger.warning("job %s%r failed; retrying in %s s", job.__name__, args, seconds, exc_info=True)
        current_app.extensions["inprocess_scheduler"].later(seconds, lambda: _run(run, job, args))
    finally:
        _inline.run = None
