"""The outbox: events are rows in the caller's transaction; a rollback drops them too."""
from app.extensions import db
from app.messaging.models import OutboxEvent


def record_event(kind: str, member_id: int | None, payload: dict) -> OutboxEvent:
    event = OutboxEvent(kind=kind, member_id=member_id, payload=payload)
    db.session.add(event)
    return event
