"""Tier benefits granted per period, waiting for the member to claim them (权益领取)."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.extensions import db
from app.types import BigId, UtcDateTime

MONTHLY, BIRTHDAY, UPGRADE = "monthly", "birthday", "upgrade"
BENEFIT_KINDS = (MONTHLY, BIRTHDAY, UPGRADE)
CLAIMABLE, CLAIMED, EXPIRED = "claimable", "claimed", "expired"


class BenefitGrant(db.Model):
    """One entitlement: granted once per (member, benefit, period), claimed or expired once."""

    __tablename__ = "benefit_grants"
    __table_args__ = (
        UniqueConstraint("member_id", "benefit", "period"),
        CheckConstraint(f"benefit IN {BENEFIT_KINDS}", name="benefit_known"),
        CheckConstraint(f"state IN {(CLAIMABLE, CLAIMED, EXPIRED)}", name="state_known"),
        Index("ix_benefit_grants_state_expires_at", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    benefit: Mapped[str] = mapped_column(String(16))
    # "2028-03" (monthly), "2028" (birthday), "tier-3" (upgrade: once per tier reached)
    period: Mapped[str] = mapped_column(String(16))
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    # what the tier gave when granted: [{"template_id": 1, "count": 2}, ...]
    coupons: Mapped[list] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default=CLAIMABLE)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)  # exclusive, a local midnight
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
