"""Mall tables: coupon templates, coupons with their audit trail and verifications,
item categories, items, orders, and the coupons a store hands out to members who scan its code."""
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import now
from app.extensions import db
from app.stores.models import Store
from app.types import BigId, UtcDateTime

# coupon kinds
AMOUNT_OFF, PERCENT_OFF, THRESHOLD_OFF, GIFT = "amount_off", "percent_off", "threshold_off", "gift"
COUPON_KINDS = (AMOUNT_OFF, PERCENT_OFF, THRESHOLD_OFF, GIFT)
# coupon states: issued → used / expired / voided; an undone verification makes used → issued
ISSUED, USED, EXPIRED, VOIDED = "issued", "used", "expired", "voided"
# how a coupon reached the member
FROM_REDEMPTION, FROM_BENEFIT, FROM_STORE_CLAIM, FROM_GRANT = "redemption", "benefit", "store_claim", "grant"
# item kinds and per-member limit periods
COUPON_ITEM, PHYSICAL, VIRTUAL = "coupon", "physical", "virtual"
LIMIT_PERIODS = ("total", "day", "week", "month")
# order states: virtual and coupon orders complete at once; physical ones wait for shipping
COMPLETED, AWAITING_SHIPMENT, SHIPPED, CANCELLED = "completed", "awaiting_shipment", "shipped", "cancelled"

coupon_template_stores = Table(
    "coupon_template_stores", db.metadata,
    Column("template_id", ForeignKey("coupon_templates.id"), primary_key=True),
    Column("store_id", ForeignKey("stores.id"), primary_key=True),
)


class CouponTemplate(db.Model):
    """What a coupon is worth, where and when it can be used, and how many may exist."""

    __tablename__ = "coupon_templates"
    __table_args__ = (
        CheckConstraint(f"kind IN {COUPON_KINDS}", name="kind_known"),
        CheckConstraint("(valid_days IS NULL) <> (valid_until IS NULL)", name="one_validity_rule"),
        CheckConstraint("issued_count >= 0 AND (total_limit IS NULL OR issued_count <= total_limit)",
                        name="issued_within_limit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    amount_off_fen: Mapped[int | None] = mapped_column(BigInteger)  # amount_off, threshold_off
    percent_off: Mapped[int | None]  # percent_off: 20 = 20 % off
    max_off_fen: Mapped[int | None] = mapped_column(BigInteger)  # percent_off: the cap
    threshold_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # the order must reach it (满减)
    gift_name: Mapped[str | None] = mapped_column(String(64))  # gift: the product handed over
    # Validity: a fixed window of business dates (inclusive), or N days from issue.
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    valid_days: Mapped[int | None]
    total_limit: Mapped[int | None]
    per_member_limit: Mapped[int | None]
    issued_count: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    # Empty: usable in every store.
    stores: Mapped[list[Store]] = relationship(secondary=coupon_template_stores, lazy="selectin",
                                               order_by=Store.id)


class Coupon(db.Model):
    """One issued coupon. Its code is the secret the member shows; states change by guarded UPDATEs."""

    __tablename__ = "coupons"
    __table_args__ = (
        # the n-th coupon of a template for a member: a second line behind the per-member limit
        UniqueConstraint("template_id", "member_id", "member_seq"),
        Index("ix_coupons_member_state_until", "member_id", "state", "valid_until", "id"),
        Index("ix_coupons_state_until", "state", "valid_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(13), unique=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    member_seq: Mapped[int]
    state: Mapped[str] = mapped_column(String(8), default=ISSUED)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)  # exclusive
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str | None] = mapped_column(String(80))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    template: Mapped[CouponTemplate] = relationship(lazy="joined")
    history: Mapped[list["CouponEvent"]] = relationship(order_by="CouponEvent.id", viewonly=True)


class CouponEvent(db.Model):
    """Every state change of a coupon: from, to, who, in which store, when. Append-only."""

    __tablename__ = "coupon_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(8))
    to_state: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(40))  # "member:7", "staff:2", "admin:1", "system"
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    ref: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class CouponVerification(db.Model):
    """A coupon used in a store (核销). At most one live (not undone) verification per coupon."""

    __tablename__ = "coupon_verifications"
    __table_args__ = (
        Index("ux_coupon_verifications_live_coupon", "coupon_id", unique=True,
              postgresql_where=text("undone_at IS NULL"), sqlite_where=text("undone_at IS NULL")),
        Index("ix_coupon_verifications_store_at", "store_id", "verified_at"),
        Index("ix_coupon_verifications_store_id_id", "store_id", "id"),  # a store's verifications, newest first
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    order_no: Mapped[str] = mapped_column(String(64))
    order_amount_fen: Mapped[int] = mapped_column(BigInteger)
    discount_fen: Mapped[int] = mapped_column(BigInteger)
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    undone_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    undo_reason: Mapped[str | None] = mapped_column(String(200))

    store: Mapped[Store] = relationship(lazy="joined")


class MallCategory(db.Model):
    """A tab of the mall (券, 实物, 周边 ...): one level, ordered by the operators. Items refer to it, so
    renaming or reordering a tab is one row, and a tab with items cannot be deleted."""

    __tablename__ = "mall_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    sort_order: Mapped[int] = mapped_column(default=0)  # ascending, then id
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)


class MallItem(db.Model):
    """Something members buy with points: a coupon, a physical gift or a virtual item."""

    __tablename__ = "mall_items"
    __table_args__ = (
        CheckConstraint(f"kind IN {(COUPON_ITEM, PHYSICAL, VIRTUAL)}", name="kind_known"),
        CheckConstraint("(kind = 'coupon') = (coupon_template_id IS NOT NULL)", name="coupon_item_has_template"),
        CheckConstraint("price_points > 0", name="price_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint(f"limit_period IN {LIMIT_PERIODS}", name="limit_period_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    image_url: Mapped[str | None] = mapped_column(String(500))  # https only (the mini-program loads no other)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("mall_categories.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    coupon_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_templates.id"))
    price_points: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int | None]  # None: unlimited
    per_member_limit: Mapped[int | None]
    limit_period: Mapped[str] = mapped_column(String(8), default="total")
    min_tier_level: Mapped[int | None]
    sale_starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sale_ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Member day (config MEMBER_DAY): the price times this percent, and/or on sale that day only.
    member_day_price_pct: Mapped[int | None]
    member_day_only: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    coupon_template: Mapped[CouponTemplate | None] = relationship(lazy="joined")


class MallOrder(db.Model):
    """A redemption. Its points debit is the ledger entry keyed `mall_order:<id>`."""

    __tablename__ = "mall_orders"
    __table_args__ = (
        Index("ix_mall_orders_member_item_at", "member_id", "item_id", "created_at"),
        Index("ix_mall_orders_member_id_id", "member_id", "id"),
        Index("ix_mall_orders_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("mall_items.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(20))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    # physical orders: {"name", "phone", "province", "city", "district", "detail", "postcode"}
    # (app/mall/addresses.py); SQL NULL for the others, not JSON 'null'
    ship_to: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    carrier: Mapped[str | None] = mapped_column(String(32))
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(40))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)

    item: Mapped[MallItem] = relationship(lazy="joined")
    coupon: Mapped[Coupon | None] = relationship()


class StoreCouponOffer(db.Model):
    """A coupon a store hands out: members who opened the store's code may claim it."""

    __tablename__ = "store_coupon_offers"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"), primary_key=True)

    template: Mapped[CouponTemplate] = relationship(lazy="joined")
