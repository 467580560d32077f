from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import now
from app.extensions import db
from app.member_row import Member
from app.stores.models import Store
from app.types import BigId, UtcDateTime


class Purchase(db.Model):
    """A purchase recorded by store staff. One per (store, order number)."""

    __tablename__ = "purchases"
    __table_args__ = (
        UniqueConstraint("store_id", "order_no"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refund_in_range"),
        Index("ix_purchases_member_id_id", "member_id", "id"),
        Index("ix_purchases_staff_id_created_at", "staff_id", "created_at"),  # a staff account's day
        Index("ix_purchases_store_id_id", "store_id", "id"),  # a store's purchases, newest first
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    order_no: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    points_earned: Mapped[int] = mapped_column(BigInteger)
    growth_earned: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    # read by the reply to a purchase (the member's new balance and tier): the member is in the
    # session then (locked by the purchase), so reading it costs no query
    member: Mapped[Member] = relationship()
    store: Mapped[Store] = relationship()
    refunds: Mapped[list["Refund"]] = relationship(order_by="Refund.id")


class Refund(db.Model):
    """A whole or partial refund of a purchase. One per (purchase, refund number)."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("purchase_id", "refund_no"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), index=True)
    refund_no: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    growth_reversed: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
