"""Background jobs: RQ on Redis in production, in-process in the embedded default.

`init_app` hooks the outbox to the session: when a transaction that wrote outbox events
(`record_events` of app/messaging/service.py marks its session) commits, the dispatcher is
nudged (one dispatch job enqueued, or the in-process scheduler woken). A rolled-back
transaction nudges nothing; the scheduled dispatch every OUTBOX_DISPATCH_INTERVAL seconds
catches anything a lost nudge missed.

On Redis a process nudges at most once per OUTBOX_NUDGE_INTERVAL seconds: a nudge is a
round trip, and a dispatch still queued takes every event committed before it starts.
An event committed after that dispatch started, and within the interval, goes with the
next nudge (any commit after the interval, from any process) or the scheduled dispatch.
"""
import logging
import math
import time

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.messaging.service import WROTE_EVENTS

logger = logging.getLogger(__name__)


def init_app(app) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _forget)


def _forget(session) -> None:
    session.info.pop(WROTE_EVENTS, None)


def _after_commit(session) -> None:
    if session.info.pop(WROTE_EVENTS, False) and has_app_context():
        nudge_dispatcher()


def nudge_dispatcher() -> None:
    from app.tasks.jobs import DISPATCH_QUEUED_KEY, dispatch_outbox
    from app.tasks.queue import get_queue

    redis = current_app.extensions.get("redis")
    if redis is None:
        scheduler = current_app.extensions.get("inprocess_scheduler")
        if scheduler is not None:
            scheduler.wake()
        return
    if not _nudge_due():
        return
    try:  # one dispatch job queued at a time; it clears the flag when it starts
        if redis.set(DISPATCH_QUEUED_KEY, 1, nx=True, ex=60):
            get_queue().enqueue(dispatch_outbox, job_timeout=current_app.config["SCHEDULED_JOB_TIMEOUT"], result_ttl=0)
    except RedisError as error:  # the commit stands; the scheduled dispatch will pick the events up
        logger.warning("could not nudge the outbox dispatcher: %s", error)


_LAST_NUDGE = "outbox_nudged_at"  # current_app.extensions: this process's last nudge (time.monotonic)


def _nudge_due() -> bool:
    at = time.monotonic()
    if at - current_app.extensions.get(_LAST_NUDGE, -math.inf) < current_app.config["OUTBOX_NUDGE_INTERVAL"]:
        return False
    current_app.extensions[_LAST_NUDGE] = at
    return True
