"""The outbox dispatcher: committed events become logged messages, then send jobs.

Events are rows written in the business transaction (app/messaging/service.py), so a
rolled-back transaction leaves nothing to dispatch. The dispatcher runs after commit (a
nudge when a transaction with events commits, and on a schedule) and works in batches:

- Claiming is one set-based statement: UPDATE … SET dispatched_at WHERE id IN (SELECT …
  ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED) RETURNING …. Two dispatchers at once take
  disjoint batches on PostgreSQL; on SQLite transactions are serialized.
- Each event with an enabled rule gives one message per (event, member, template), with
  its data rendered and fitted to WeChat's rules now (the log shows what is sent). The
  insert ignores conflicts on that unique key, so a replayed event adds nothing.
- After each batch commits, `send(ids)` enqueues the new messages (the caller's job
  queue). A process dying between the commit and the enqueue leaves messages pending:
  the sweep re-enqueues those untouched for MESSAGE_REQUEUE_AFTER (a duplicate job is
  harmless: the claim lets one send), and marks claims older than MESSAGE_SEND_LEASE
  `unconfirmed` (see app/messaging/delivery.py), OUTBOX_BATCH messages at a time.
"""
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.batches import Batches
from app.clock import business_tz, now
from app.db_helpers import insert_many_ignoring_conflict
from app.extensions import db
from app.member_row import Member
from app.messaging.fields import fit_data
from app.messaging.models import PENDING, RETRYING, SENDING, UNCONFIRMED, Message, OutboxEvent
from app.messaging.rules import enabled_rules

Sender = Callable[[list[int]], None]


def dispatch_pending(send: Sender) -> Batches:
    """Dispatch every pending event, batch by batch, then sweep stuck messages (a sweep:
    app/batches.py; each `send` follows its batch's commit)."""
    batch = current_app.config["OUTBOX_BATCH"]
    counts = {"events": 0, "messages": 0, "requeued": 0, "unconfirmed": 0}
    while True:
        events, message_ids = _dispatch_batch(batch)
        yield
        send(message_ids)
        counts["events"] += events
        counts["messages"] += len(message_ids)
        if events < batch:
            break
    while unconfirmed := _give_up_stale_claims(batch):
        yield
        counts["unconfirmed"] += unconfirmed
    while requeue := _touch_idle_messages(batch):
        yield
        send(requeue)
        counts["requeued"] += len(requeue)
    return counts


def _dispatch_batch(batch: int) -> tuple[int, list[int]]:
    at = now()
    pending = (select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None))
               .order_by(OutboxEvent.id).limit(batch).with_for_update(skip_locked=True))
    events = db.session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_(pending.scalar_subquery())).values(dispatched_at=at)
        .returning(OutboxEvent.id, OutboxEvent.kind, OutboxEvent.member_id, OutboxEvent.payload)
        .execution_options(synchronize_session=False)
    ).all()
    rules = enabled_rules(event.kind for event in events)
    to_send = [event for event in events if event.kind in rules and event.member_id is not None]
    openids = dict(db.session.execute(
        select(Member.id, Member.openid).where(Member.id.in_({event.member_id for event in to_send}))).all())
    tz = business_tz()
    rows = [{
        "event_id": event.id, "member_id": event.member_id, "kind": event.kind,
        "template_id": rules[event.kind].template_id, "openid": openids[event.member_id],
        "page": rules[event.kind].page, "data": fit_data(rules[event.kind].fields, event.payload or {}, tz),
        "status": PENDING, "attempts": 0, "quota_held": False, "created_at": at, "updated_at": at,
    } for event in to_send]
    inserted = insert_many_ignoring_conflict(Message, rows, ["event_id", "member_id", "template_id"],
                                             returning=[Message.id])
    return len(events), sorted(row.id for row in inserted)


def _next_batch(where, batch: int):
    """The next `batch` messages matching `where`, skipping rows another transaction holds."""
    return Message.id.in_(select(Message.id).where(where).order_by(Message.id).limit(batch)
                          .with_for_update(skip_locked=True).scalar_subquery())


def _give_up_stale_claims(batch: int) -> int:
    """Claims past MESSAGE_SEND_LEASE → unconfirmed, one batch: how many."""
    at = now()
    stale = (Message.status == SENDING) & (
        Message.claimed_at < at - timedelta(seconds=current_app.config["MESSAGE_SEND_LEASE"]))
    return db.session.execute(
        update(Message).where(_next_batch(stale, batch))
        .values(status=UNCONFIRMED, error_code="OUTCOME_UNKNOWN", error_message="claim expired mid-call",
                finished_at=at, updated_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount


def _touch_idle_messages(batch: int) -> list[int]:
    """Messages idle past MESSAGE_REQUEUE_AFTER, one batch, marked as touched now: to re-enqueue."""
    at = now()
    idle = Message.status.in_((PENDING, RETRYING)) & (
        Message.updated_at < at - timedelta(seconds=current_app.config["MESSAGE_REQUEUE_AFTER"]))
    return sorted(db.session.execute(
        update(Message).where(_next_batch(idle, batch)).values(updated_at=at).returning(Message.id)
        .execution_options(synchronize_session=False)
    ).scalars().all())
