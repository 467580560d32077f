from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.extensions import db
from app.types import BigId, UtcDateTime

POINTS = "points"
GROWTH = "growth"


class LedgerEntry(db.Model):
    """One change of a member's points or growth. Append-only: never updated or deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("account IN ('points', 'growth')", name="account_known"),
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_ledger_entries_member_account_id", "member_id", "account", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    account: Mapped[str] = mapped_column(String(8))
    delta: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(24))
    ref: Mapped[str | None] = mapped_column(String(80))
    # The last line against paying twice: one entry per effect, whoever retries.
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    actor: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class PointLot(db.Model):
    """Points from one credit, usable until `expires_on` (a business date, inclusive)."""

    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
        Index("ix_point_lots_member_expiry", "member_id", "expires_on", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expires_on: Mapped[date] = mapped_column(Date)


class LotConsumption(db.Model):
    """Which lots a debit drew from and how much: spends stay matched to their lots."""

    __tablename__ = "lot_consumptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
