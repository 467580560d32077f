"""The member's row, the tier row it points to, and the member's row lock: one owner, low in the house.

Every package that reads or writes a member's row takes it from here, and this module imports
no domain: the ledger (app/points) keeps the cached balances on the row under its lock,
messaging reads openids, the mall checks tiers, engagement and purchases lock members before
they write, and app/members (login, profile, card, tiers) builds on it.

Locks follow the lock order (app/db_helpers.py): members first, in ascending id. A write that
touches several members locks them all at once with `lock_members`, never the lower id after
the higher; a batch job passes `skip_locked` and takes the members it skipped one at a time.
"""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import now
from app.db_helpers import lock, lock_all, lock_rows, locking
from app.errors import AppError, MemberError
from app.extensions import db
from app.types import UtcDateTime


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
    # coupon packs to claim (app/mall/benefits.py): monthly_/birthday_/upgrade_coupons.
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


# The operators' member search (app/members/search.py) on PostgreSQL, at a million members: a
# phone by its last 5-10 digits (reverse(phone) LIKE '4321%') or by its last 4, newest first
# (right(phone, 4) = '1234' ORDER BY id DESC: ~100 members share them at 1M, a page reads only its
# own), a nickname by its beginning (1-2 characters, lower(nickname) LIKE 'ab%') or anywhere in it
# (3 or more: trigrams). PostgreSQL only (migrations 0015, 0021): SQLite, the embedded default,
# scans its members.
for _index in (
    Index("ix_members_phone_reversed", func.reverse(Member.phone).label("phone_reversed"),
          postgresql_ops={"phone_reversed": "text_pattern_ops"}),
    Index("ix_members_phone_last4", func.right(Member.phone, 4), Member.id),
    Index("ix_members_nickname_lower", func.lower(Member.nickname).label("nickname_lower"),
          postgresql_ops={"nickname_lower": "text_pattern_ops"}),
    Index("ix_members_nickname_trgm", func.lower(Member.nickname).label("nickname_lower"), postgresql_using="gin",
          postgresql_ops={"nickname_lower": "gin_trgm_ops"}),
):
    _index.ddl_if(dialect="postgresql")


def lock_member(member_id: int) -> Member:
    """The member's row, locked until the transaction ends; MEMBER_NOT_FOUND if there is none."""
    member = lock(Member, member_id)
    if member is None:
        raise AppError(MemberError.MEMBER_NOT_FOUND)
    return member


def lock_members(member_ids, skip_locked: bool = False) -> list[Member]:
    """Lock several members in one statement, in ascending id (those already held are not locked
    again): the rows of those that exist, in ascending id. With `skip_locked` (a batch job),
    members another transaction holds are left out, not waited for."""
    if not skip_locked:
        return lock_all(Member, member_ids)
    return lock_rows(locking(Member, Member.id.in_(set(member_ids)), skip_locked=True))
