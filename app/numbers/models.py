"""Daily rollups: additive facts per (business day, tier, store), snapshots of what is not
additive, and the days rolled up so far.

A page reads these, plus the live facts of the days not rolled up yet (today), and never
scans the ledger or all members. The indexes at the end are the ones those live facts need:
they belong to other packages' tables, and are declared here because the numbers are why
they exist.
"""
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.engagement.models import Checkin
from app.extensions import db
from app.mall.benefit_models import BenefitGrant
from app.mall.models import Coupon, CouponVerification
from app.member_row import Member
from app.members.models import TierChange
from app.points.models import LedgerEntry
from app.purchases.models import Purchase, Refund
from app.types import UtcDateTime

NO_STORE = 0  # store_id of a member attributed to no store


class DailyFact(db.Model):
    """Σ of one metric over one business day, tier and store (app/numbers/facts.py says which)."""

    __tablename__ = "daily_facts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    tier_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    store_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # NO_STORE: none
    detail: Mapped[str] = mapped_column(String(24), primary_key=True)  # a ledger kind, a from-tier, or ""
    value: Mapped[int] = mapped_column(BigInteger)


class MonthlyFact(db.Model):
    """Σ of daily_facts over a calendar month (`month`: its first day), per metric, tier, store and
    detail: a long period reads its whole months here, a month's row where it would read 31 days'."""

    __tablename__ = "monthly_facts"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    tier_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    store_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    detail: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class DailyTotal(db.Model):
    """Σ of daily_facts over the stores, per day, metric, tier and detail: what a page's series per day
    reads (a twentieth of the rows with twenty stores)."""

    __tablename__ = "daily_totals"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    tier_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    detail: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class DailySnapshot(db.Model):
    """A number as it stood at the end of a business day (app/numbers/snapshots.py)."""

    __tablename__ = "daily_snapshots"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    tier_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    store_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    detail: Mapped[str] = mapped_column(String(24), primary_key=True)  # a window ("7d", "7d:previous"), or ""
    value: Mapped[int] = mapped_column(BigInteger)


class DistinctSoFar(db.Model):
    """Members counted once in a window (`detail`: "7d", "active", ...) whose first time in it came on
    `day` before today's rollup cut (rolled_days.rolled_at): written with today so far, so that a
    page reads live only the members since (app/numbers/distinct.py)."""

    __tablename__ = "distinct_so_far"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    tier_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    detail: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class RolledDay(db.Model):
    """A business day whose facts are written, in full when rolled after the day ended, else up to
    `rolled_at` (today so far): what came after is read live."""

    __tablename__ = "rolled_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rolled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


# One day of each table, read by the rollup job and by a page for today.
Index("ix_members_created_at", Member.created_at)
Index("ix_purchases_created_at", Purchase.created_at)
Index("ix_refunds_created_at", Refund.created_at)
Index("ix_ledger_entries_created_at", LedgerEntry.created_at)
Index("ix_coupons_issued_at", Coupon.issued_at)
Index("ix_coupon_verifications_verified_at", CouponVerification.verified_at)
Index("ix_coupon_verifications_undone_at", CouponVerification.undone_at)
Index("ix_benefit_grants_granted_at", BenefitGrant.granted_at)
Index("ix_benefit_grants_claimed_at", BenefitGrant.claimed_at)
Index("ix_tier_changes_created_at", TierChange.created_at)
Index("ix_checkins_created_at", Checkin.created_at)
