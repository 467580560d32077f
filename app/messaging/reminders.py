"""Reminders written once: one outbox event per (kind, member, key), whoever runs the job.

Scheduled jobs (points expiring, tier downgrade warnings, and the mall's coupon and
benefit countdowns) find who is due set-based, then call `remind_once` with the rows.
A multi-row INSERT into `reminders` that ignores conflicts on (kind, member, key) decides
which rows are new: only those get an event, so a job run twice, or in two processes
at once, reminds once. `not_reminded` lets the finding query skip rows already done.
"""
from collections.abc import Callable

from sqlalchemy import exists

from app.clock import now
from app.db_helpers import insert_many_ignoring_conflict
from app.messaging.kinds import EventKind
from app.messaging.models import Reminder
from app.messaging.service import record_events


def not_reminded(kind: EventKind, member_id, key):
    """A WHERE clause: no reminder of this kind yet for the member and key (SQL expressions)."""
    return ~exists().where(Reminder.kind == kind, Reminder.member_id == member_id, Reminder.key == key)


def remind_once(kind: EventKind, due: list[tuple[int, str]], payload: Callable[[int, str], dict]) -> int:
    """Write the reminders in `due` (member id, key) that are new, each with an outbox event
    carrying `payload(member_id, key)`; returns how many were new."""
    at = now()
    won = insert_many_ignoring_conflict(
        Reminder, [{"kind": kind, "member_id": member_id, "key": key, "created_at": at} for member_id, key in due],
        ["kind", "member_id", "key"], returning=[Reminder.member_id, Reminder.key])
    return len(record_events(kind, [(row.member_id, payload(row.member_id, row.key)) for row in won]))
