"""The outbox: events are rows in the caller's transaction; a rollback drops them too.

`record_event(kind, member_id, payload)`: the payload holds what a message needs (names,
amounts, dates as YYYY-MM-DD), so the sender need not query. Kinds: see
app/messaging/rules.EVENT_KINDS. What happens next: app/messaging/outbox.py.
"""
from sqlalchemy import insert

from app.clock import now
from app.db_helpers import newest_first
from app.extensions import db
from app.messaging.models import Message, OutboxEvent

# session.info flag: this transaction wrote outbox events (app/tasks nudges the dispatcher on commit)
WROTE_EVENTS = "outbox_events_written"


# Built once, and run past the ORM: nothing reads the event back in the transaction that writes it.
_INSERT_EVENT = insert(OutboxEvent.__table__).returning(OutboxEvent.id)


def record_event(kind: str, member_id: int | None, payload: dict) -> int:
    """Write the event in the caller's transaction; its id."""
    event_id = db.session.connection().execute(_INSERT_EVENT, {
        "kind": kind, "member_id": member_id, "payload": payload, "created_at": now(), "dispatched_at": None,
    }).scalar_one()
    db.session.info[WROTE_EVENTS] = True
    return event_id


def messages_page(status: str | None, member_id: int | None, before_id: int | None, limit: int) -> list[Message]:
    """The message log, newest first, optionally one status or one member."""
    return newest_first(Message, before_id, limit, status=status, member_id=member_id)
