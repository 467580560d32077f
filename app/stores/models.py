from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import now
from app.extensions import db
from app.types import BigId, UtcDateTime

CLERK = "clerk"
MANAGER = "manager"


class Store(db.Model):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # what a member's store list shows ("nearby" from the location, GCJ-02 as wx.getLocation gives it)
    address: Mapped[str | None] = mapped_column(String(200))
    opening_hours: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False))
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6, asdecimal=False))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class Staff(db.Model):
    """A store account. Bound to exactly one store; acts only there."""

    __tablename__ = "staff"
    __table_args__ = (CheckConstraint("role IN ('clerk', 'manager')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default=CLERK)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped by a logout, a password change or disabling: tokens carrying an older version end.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    store: Mapped[Store] = relationship(lazy="joined")


class StoreVisit(db.Model):
    """A member opened a store's mini-program code. Append-only: one row per opening."""

    __tablename__ = "store_visits"
    __table_args__ = (Index("ix_store_visits_member_store", "member_id", "store_id"),
                      Index("ix_store_visits_store_at", "store_id", "visited_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    visited_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class HomeStore(db.Model):
    """The store a member is attributed to: the first one whose code they opened, kept for good."""

    __tablename__ = "home_stores"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    attributed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
