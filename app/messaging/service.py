"""The outbox: events are rows in the caller's transaction; a rollback drops them too.

One way to write them: `record_events(kind, [(member_id, payload), ...])` for many (one
multi-row INSERT), `record_event(kind, member_id, payload)` for one. The payload holds what a
message needs (names, amounts, dates as YYYY-MM-DD), so the sender need not query; its
fields are the kind's (app/messaging/kinds.py). What happens next: app/messaging/outbox.py.
"""
from collections.abc import Iterable

from sqlalchemy import insert

from app.clock import now
from app.db_helpers import newest_first
from app.extensions import db
from app.messaging.kinds import EventKind
from app.messaging.models import Message, OutboxEvent

# session.info flag: this transaction wrote outbox events (app/tasks nudges the dispatcher on commit)
WROTE_EVENTS = "outbox_events_written"


# Built once, and run past the ORM: nothing reads the event back in the transaction that writes it.
_INSERT_EVENTS = insert(OutboxEvent.__table__).returning(OutboxEvent.id, sort_by_parameter_order=True)


def record_events(kind: EventKind | str, events: Iterable[tuple[int | None, dict]]) -> list[int]:
    """Write one event of `kind` per (member id, payload) in the caller's transaction (one INSERT
    of many rows); their ids, in the order given.

    A kind or a payload field that app/messaging/kinds.py does not list is a bug of the caller:
    ValueError, before anything is written."""
    kind, at = EventKind(kind), now()
    rows = [{"kind": kind.value, "member_id": member_id, "payload": payload, "created_at": at,
             "dispatched_at": None} for member_id, payload in events]
    for row in rows:
        if unknown := set(row["payload"]) - set(kind.fields):
            raise ValueError(f"{kind}: payload fields {sorted(unknown)} are not in EventKind.{kind.name}")
    if not rows:
        return []
    # one row (a redemption's hot path) as a plain INSERT, many as one multi-row INSERT
    ids = list(db.session.connection().execute(_INSERT_EVENTS, rows[0] if len(rows) == 1 else rows).scalars())
    db.session.info[WROTE_EVENTS] = True  # app/tasks nudges the dispatcher when this commits
    return ids


def record_event(kind: EventKind | str, member_id: int | None, payload: dict) -> int:
    """One event: `record_events` with one row; its id."""
    (event_id,) = record_events(kind, [(member_id, payload)])
    return event_id


def messages_page(status: str | None, member_id: int | None, before_id: int | None, limit: int) -> list[Message]:
    """The message log, newest first, optionally one status or one member."""
    return newest_first(Message, before_id, limit, status=status, member_id=member_id)
