"""The records of tier changes and tier reviews (the member and tier rows: app/member_row.py)."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import now
from app.extensions import db
from app.member_row import Tier
from app.types import BigId, UtcDateTime


class TierChange(db.Model):
    """Every change of a member's tier: from, to, why, when."""

    __tablename__ = "tier_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    from_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    to_tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    reason: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    # a handful of tier rows: after the first change read, the rest come from the session
    from_tier: Mapped[Tier | None] = relationship(foreign_keys=[from_tier_id])
    to_tier: Mapped[Tier] = relationship(foreign_keys=[to_tier_id])


class TierReview(db.Model):
    """A held tier's review at the end of its period: kept or lowered, once per member and date."""

    __tablename__ = "tier_reviews"
    __table_args__ = (UniqueConstraint("member_id", "due_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    due_on: Mapped[date] = mapped_column(Date)
    from_tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    to_tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    window_growth: Mapped[int] = mapped_column(BigInteger)
    threshold: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(12))  # retained / downgraded
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
