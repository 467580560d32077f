"""Where jobs go: the RQ queue on Redis when REDIS_URL is set, else run in this thread.

The embedded default (`make run`, no Redis) runs every job in-process, in the thread
that asks (the in-process scheduler's): the same job functions, without RQ's retries.
"""
import logging
from collections.abc import Callable

from flask import current_app
from rq import Queue

logger = logging.getLogger(__name__)


def get_queue() -> Queue | None:
    redis = current_app.extensions.get("redis")
    return Queue(current_app.config["RQ_QUEUE"], connection=redis) if redis is not None else None


def run_inline(job: Callable, *args) -> None:
    """Run a job now; an error is logged, as a worker would, and does not stop the caller."""
    try:
        job(*args)
    except Exception:
        logger.exception("job %s%r failed", job.__name__, args)
