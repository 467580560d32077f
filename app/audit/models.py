from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.extensions import db
from app.types import BigId, UtcDateTime


class AuditEntry(db.Model):
    """One operator write request that succeeded: who, when, what, and the rows it changed.

    `changes` holds the first rows the request changed (app/audit/service.py CHANGES_KEPT),
    each {"table", "id", "op", "before", "after"} with only the changed columns;
    `changes_count` counts them all (a campaign may grant 100k coupons in one request).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_target", "target_type", "target_id"),
        Index("ix_audit_entries_operator_id", "operator_id"),
        Index("ix_audit_entries_action", "action"),
        Index("ix_audit_entries_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    operator_name: Mapped[str] = mapped_column(String(64))  # as it was then: a name may change
    # the view's endpoint, e.g. "admin.create_tier" or "console.create_operator"
    action: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    # what the request acted on: its first `<name>_id` path parameter, else the first row it wrote
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    arguments: Mapped[dict] = mapped_column(JSON)  # query and body, secrets (passwords) removed
    changes: Mapped[list] = mapped_column(JSON)
    changes_count: Mapped[int] = mapped_column(default=0)
    request_id: Mapped[str] = mapped_column(String(64), default="")
