"""The outbox: events are rows in the caller's transaction; a rollback drops them too.

`record_event(kind, member_id, payload)`: the payload holds what a message needs (names,
amounts, dates as YYYY-MM-DD), so the sender need not query. Kinds: see
app/messaging/rules.EVENT_KINDS. What happens next: app/messaging/outbox.py.
"""
from app.clock import now
from app.db_helpers import newest_first, written
from app.extensions import db
from app.messaging.models import Message, OutboxEvent

# session.info flag: this transaction wrote outbox events (app/tasks nudges the dispatcher on commit)
WROTE_EVENTS = "outbox_events_written"


def record_event(kind: str, member_id: int | None, payload: dict) -> OutboxEvent:
    event = written(OutboxEvent(kind=kind, member_id=member_id, payload=payload, created_at=now()))
    db.session.info[WROTE_EVENTS] = True
    return event


def messages_page(status: str | None, member_id: int | None, before_id: int | None, limit: int) -> list[Message]:
    """The message log, newest first, optionally one status or one member."""
    return newest_first(Message, before_id, limit, status=status, member_id=member_id)
