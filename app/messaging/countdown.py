"""Reminders before a row ends (a coupon, a benefit): one event per row, keyed on its id.

Rows are due when their exclusive end (a local midnight) falls within `ahead` days after
today's last day and they have not ended yet; `remind_once` keyed on the row id makes a
second run (or a run in two processes at once) remind nobody again, and a missed day is
caught up by the next run while the row still lasts.
"""
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import String, cast, select

from app.batches import Batches
from app.clock import now, start_of_day, today
from app.extensions import db
from app.messaging.reminders import not_reminded, remind_once

BATCH = 1000


def remind_ending(kind: str, model, ends_at, ahead: int, where, payload: Callable) -> Batches:
    """Remind each `model` row matching `where` whose `ends_at` column is due (a sweep: app/batches.py)."""
    day = today()
    until = start_of_day(day + timedelta(days=ahead + 1))
    find = (select(model)
            .where(where, ends_at > now(), ends_at <= until,
                   not_reminded(kind, model.member_id, cast(model.id, String)))
            .order_by(model.id).limit(BATCH))
    reminded = 0
    while rows := db.session.execute(find).scalars().all():
        payloads = {(row.member_id, str(row.id)): payload(row, day) for row in rows}
        reminded += remind_once(kind, list(payloads), lambda member_id, key: payloads[(member_id, key)])
        yield
    return {"reminded": reminded}
