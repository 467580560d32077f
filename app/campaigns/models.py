"""Campaigns, who each one targets (one row per campaign and member) and the churn-recall setting."""
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.extensions import db
from app.types import BigId, UtcDateTime

PENDING, REACHED, HELD_OUT = "pending", "reached", "held_out"


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("holdout_pct >= 0 AND holdout_pct <= 50", name="holdout_in_range"),
        CheckConstraint("response_days >= 1", name="response_days_positive"),
        CheckConstraint("points IS NULL OR points > 0", name="points_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"))
    coupon_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_templates.id"))
    points: Mapped[int | None] = mapped_column(BigInteger)
    send_message: Mapped[bool] = mapped_column(Boolean, default=False)
    # A recall campaign's members are those who move into 流失预警 (and match its segment), enrolled
    # by each RFM run while the churn recall names it; launching it assigns nobody at once.
    recall: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    holdout_pct: Mapped[int] = mapped_column(Integer)
    response_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    launched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: a draft
    launched_by: Mapped[str | None] = mapped_column(String(80))
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # every member of the segment has a row


class CampaignMember(db.Model):
    """A member a campaign targets, in its group (campaign or holdout), once: the unique key is
    what makes a launch resumable and a relaunch harmless."""

    __tablename__ = "campaign_members"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id"),
        Index("ix_campaign_members_campaign_state", "campaign_id", "state", "member_id"),
        CheckConstraint(f"state IN {(PENDING, REACHED, HELD_OUT)}", name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    holdout: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(12))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    respond_until: Mapped[datetime] = mapped_column(UtcDateTime)  # the response window, both groups alike
    reached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    coupon_error: Mapped[str | None] = mapped_column(String(40))  # e.g. COUPON_SOLD_OUT: reached without it
    event_id: Mapped[int | None] = mapped_column(BigInteger)  # the campaign_reached outbox event


class RecallSetting(db.Model):
    """The churn recall: when on, members entering 流失预警 join this campaign (one row, id 1)."""

    __tablename__ = "recall_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
