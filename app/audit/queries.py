"""The audit log's page: newest first, filtered by who, what and when."""
from datetime import date, timedelta

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.clock import start_of_day
from app.db_helpers import newest_first
from app.errors import AppError, ConsoleError
from app.extensions import db


def entries_page(before_id: int | None, limit: int, *, operator_id: int | None = None, action: str | None = None,
                 target_type: str | None = None, target_id: str | None = None,
                 from_day: date | None = None, to_day: date | None = None) -> list[AuditEntry]:
    """`limit` entries older than the cursor; `from_day` to `to_day` are business days, both included."""
    where = []
    if from_day is not None:
        where.append(AuditEntry.at >= start_of_day(from_day))
    if to_day is not None:
        where.append(AuditEntry.at < start_of_day(to_day + timedelta(days=1)))
    return newest_first(AuditEntry, before_id, limit, *where, operator_id=operator_id, action=action,
                        target_type=target_type, target_id=target_id)


def get_entry(entry_id: int) -> AuditEntry:
    entry = db.session.get(AuditEntry, entry_id)
    if entry is None:
        raise AppError(ConsoleError.AUDIT_ENTRY_NOT_FOUND)
    return entry


def actions() -> list[str]:
    """Every action logged so far, for a filter's choices."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
