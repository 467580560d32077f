"""Tables of check-in, referral and tasks."""
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import now
from app.extensions import db
from app.member_row import Member
from app.types import BigId, UtcDateTime


class EngagementSetting(db.Model):
    """Operator-set rules (check-in rewards, referral rewards), one JSON document per name."""

    __tablename__ = "engagement_settings"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_by: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


# --- check-in --------------------------------------------------------------------------

CHECKIN, MAKEUP = "checkin", "makeup"


class Checkin(db.Model):
    """One business day checked by one member: on the day itself, or made up later."""

    __tablename__ = "checkins"
    __table_args__ = (
        # the last line against double taps and concurrent requests: one row per day
        UniqueConstraint("member_id", "day"),
        CheckConstraint("kind IN ('checkin', 'makeup')", name="kind_known"),
        Index("ix_checkins_day", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    # the business day it was recorded on: a makeup's month counts against that month's quota
    recorded_on: Mapped[date] = mapped_column(Date)
    # the day's own reward as credited (after any tier multiplier)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    growth: Mapped[int] = mapped_column(BigInteger, default=0)
    # makeups only: "points" or "card"
    paid_with: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class StreakReward(db.Model):
    """A streak reward paid: the run it was paid for (its first day) and the run length reached."""

    __tablename__ = "checkin_streak_rewards"
    __table_args__ = (
        UniqueConstraint("member_id", "run_start", "position"),
        Index("ix_checkin_streak_rewards_member_reached", "member_id", "reached_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    run_start: Mapped[date] = mapped_column(Date)
    position: Mapped[int]  # the run's length on the day it was reached
    milestone: Mapped[int]  # the configured streak day (differs from position in a cycle)
    reached_on: Mapped[date] = mapped_column(Date)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    growth: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class MakeupCard(db.Model):
    """One makeup card (补签卡), granted by a reward and spent on one made-up day."""

    __tablename__ = "makeup_cards"
    __table_args__ = (Index("ix_makeup_cards_member_used", "member_id", "used_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # which reward granted it (unique: a retried reward grants no second card)
    source: Mapped[str] = mapped_column(String(120), unique=True)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    used_for_day: Mapped[date | None] = mapped_column(Date)


# --- referral --------------------------------------------------------------------------

PENDING, REWARDED, REFUSED, REVERSED = "pending", "rewarded", "refused", "reversed"


class Referral(db.Model):
    """An invitee bound to their inviter at the invitee's first login, and what came of it."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'rewarded', 'refused', 'reversed')", name="state_known"),
        Index("ix_referrals_inviter_id_id", "inviter_id", "id"),
        Index("ix_referrals_inviter_rewarded_on", "inviter_id", "rewarded_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    inviter_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    # bound once: a member is invited by at most one member, ever
    invitee_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    reason: Mapped[str | None] = mapped_column(String(32))  # why refused
    qualified_by: Mapped[str | None] = mapped_column(String(40))  # "phone" or "purchase:<id>"
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"), index=True)
    # what was paid, so a reversal takes back exactly that whatever the rules say now
    inviter_points: Mapped[int] = mapped_column(BigInteger, default=0)
    inviter_growth: Mapped[int] = mapped_column(BigInteger, default=0)
    invitee_points: Mapped[int] = mapped_column(BigInteger, default=0)
    invitee_growth: Mapped[int] = mapped_column(BigInteger, default=0)
    rewarded_on: Mapped[date | None] = mapped_column(Date)
    rewarded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    invitee: Mapped[Member] = relationship(foreign_keys=[invitee_id])


class PhoneBinding(db.Model):
    """Every phone a member ever bound: a phone once someone else's does not qualify an invitee."""

    __tablename__ = "phone_bindings"
    __table_args__ = (UniqueConstraint("phone", "member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


# --- tasks -----------------------------------------------------------------------------

TASK_KINDS = ("complete_profile", "bind_phone", "first_purchase", "checkin_streak", "purchases",
              "mall_redeem", "invite_friends")
RECURRENCES = ("once", "daily", "weekly", "monthly")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Task(db.Model):
    """An operator-defined task: what to do, how many times, its reward and how often it renews."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(_one_of("kind", TASK_KINDS), name="kind_known"),
        CheckConstraint(_one_of("recurrence", RECURRENCES), name="recurrence_known"),
        CheckConstraint("target >= 1", name="target_positive"),
        CheckConstraint("reward_points >= 0 AND reward_growth >= 0 AND reward_makeup_cards >= 0",
                        name="reward_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    target: Mapped[int] = mapped_column(default=1)
    recurrence: Mapped[str] = mapped_column(String(8), default="once")
    reward_points: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_growth: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_makeup_cards: Mapped[int] = mapped_column(default=0)
    auto_pay: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sort_order: Mapped[int] = mapped_column(default=0)
    # the mini-program page where the member does it (pages/checkin/index); None: the kind's default
    page_path: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class TaskProgress(db.Model):
    """A member's progress on a task in one period ("once", "2025-03-01", "2025-W09", "2025-03")."""

    __tablename__ = "task_progress"
    __table_args__ = (UniqueConstraint("task_id", "member_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    period: Mapped[str] = mapped_column(String(10))
    progress: Mapped[int] = mapped_column(BigInteger, default=0)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class TaskClaim(db.Model):
    """A task's reward paid for one period: once, whoever claims how often."""

    __tablename__ = "task_claims"
    __table_args__ = (UniqueConstraint("task_id", "member_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    period: Mapped[str] = mapped_column(String(10))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    growth: Mapped[int] = mapped_column(BigInteger, default=0)
    makeup_cards: Mapped[int] = mapped_column(default=0)
    automatic: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
