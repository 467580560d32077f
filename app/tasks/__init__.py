"""Background jobs: RQ on Redis in production, in-process in the embedded default.

`init_app` hooks the outbox to the session: when a transaction that wrote outbox events
commits, the dispatcher is nudged (one dispatch job enqueued, or the in-process
scheduler woken). A rolled-back transaction nudges nothing; the scheduled dispatch every
OUTBOX_DISPATCH_INTERVAL seconds catches anything a lost nudge missed.
"""
import logging

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.messaging.models import OutboxEvent
from app.messaging.service import WROTE_EVENTS

logger = logging.getLogger(__name__)


def init_app(app) -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "do_orm_execute", _on_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _forget)


def _on_execute(state) -> None:
    """Outbox rows written in bulk (reminders, grants); record_event marks the session itself."""
    if state.is_insert and state.bind_mapper is not None and state.bind_mapper.class_ is OutboxEvent:
        state.session.info[WROTE_EVENTS] = True


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
    try:  # one dispatch job queued at a time; it clears the flag when it starts
        if redis.set(DISPATCH_QUEUED_KEY, 1, nx=True, ex=60):
            get_queue().enqueue(dispatch_outbox, job_timeout=current_app.config["SCHEDULED_JOB_TIMEOUT"], result_ttl=0)
    except RedisError as error:  # the commit stands; the scheduled dispatch will pick the events up
        logger.warning("could not nudge the outbox dispatcher: %s", error)
