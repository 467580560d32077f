"""Records are kept IDEMPOTENCY_RETENTION_HOURS: longer than any client retries, and no
longer, as the stored replies hold personal data."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from app.batches import Batches
from app.clock import now
from app.extensions import db
from app.idempotency.models import IdempotencyRecord


def purge_expired() -> Batches:
    """Delete the records older than IDEMPOTENCY_RETENTION_HOURS, oldest first, a batch of
    IDEMPOTENCY_PURGE_BATCH per transaction (a sweep: app/batches.py)."""
    config = current_app.config
    expired = IdempotencyRecord.started_at < now() - timedelta(hours=config["IDEMPOTENCY_RETENTION_HOURS"])
    purged = cursor = 0
    while ids := db.session.execute(select(IdempotencyRecord.id).where(expired, IdempotencyRecord.id > cursor)
                                    .order_by(IdempotencyRecord.id).limit(config["IDEMPOTENCY_PURGE_BATCH"])
                                    ).scalars().all():
        cursor = ids[-1]
        purged += db.session.execute(delete(IdempotencyRecord.__table__).where(
            IdempotencyRecord.id.in_(ids))).rowcount
        yield
    return {"purged": purged}
