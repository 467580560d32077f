from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import now
from app.extensions import db
from app.types import BigId, UtcDateTime


class Tier(db.Model):
    """A level of the card. Configuration, not code: operators add and tune rows."""

    __tablename__ = "tiers"
    __table_args__ = (
        CheckConstraint("growth_threshold >= 0", name="threshold_not_negative"),
        CheckConstraint("points_multiplier_pct >= 0", name="multiplier_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(32))
    growth_threshold: Mapped[int] = mapped_column(BigInteger, unique=True)
    # Points multiplier in percent (100 = 1x, 150 = 1.5x): integers keep earning exact.
    points_multiplier_pct: Mapped[int] = mapped_column(default=100)
    # Display and later-used benefits: discount_pct, free_shipping, birthday_points, ...;
    # coupon packs to claim (app/members/benefits.py): monthly_/birthday_/upgrade_coupons.
    benefits: Mapped[dict] = mapped_column(JSON, default=dict)


class Member(db.Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    card_no: Mapped[str] = mapped_column(String(20), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    nickname: Mapped[str | None] = mapped_column(String(64))
    gender: Mapped[str] = mapped_column(String(8), default="unknown")
    birthday: Mapped[date | None] = mapped_column(Date)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    tier_since: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    # Caches of the ledger: growth = Σ growth entries, points_balance = Σ points entries.
    growth: Mapped[int] = mapped_column(BigInteger, default=0)
    points_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    # Per-member key of the dynamic member code (hex).
    code_secret: Mapped[str] = mapped_column(String(40))
    # Bumped by a logout: tokens carrying an older version end.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    tier: Mapped[Tier] = relationship(lazy="joined")


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
