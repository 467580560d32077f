"""Mall items, and for a given member and moment: the price and whether they may redeem it.

Rules chosen here:
- Member day (config MEMBER_DAY, the 18th by default, in the business zone). An item with
  `member_day_price_pct` costs price × pct / 100 that day, rounded up to a whole point (so
  never 0). An item marked `member_day_only` is on sale that day only; with
  `min_tier_level` as well it is a tier-only member-day item.
- The per-member limit counts the member's orders of the item that are not cancelled, in
  the current period (local day, ISO week from Monday, calendar month) or ever ("total").
  A cancelled order gives its place back, as it gives back its points and stock.
- A coupon item is out of stock when either its own stock or its template's total
  limit is used up, closed (COUPON_TEMPLATE_CLOSED) when its template issues no more, and
  refused (COUPON_LIMIT_REACHED) when the member holds as many as the template allows.
- The reason a member may not redeem is the first that applies, in this order: sale
  window, member day, tier, coupon template closed, stock, per-member limit, the coupon's
  own limit, points. It is a code and a text in Chinese (`Refusal`, made here only): the
  listing shows both, and a redemption answers the code with the text as its message.
- Members see active items whose sale has not ended, newest first, all or one category's;
  operators see all.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.orm import lazyload

from app.clock import business_tz, now
from app.db_helpers import newest_first
from app.errors import AppError, CouponError, ErrorCode, MallError, PointsError, invalid_field
from app.extensions import db
from app.mall.categories import categories_with_items, get_category
from app.mall.coupons import closed, get_template, held_counts, left_to_issue, member_limit_reached
from app.mall.models import CANCELLED, COUPON_ITEM, MallCategory, MallItem, MallOrder
from app.mall.periods import is_member_day, period_start
from app.member_row import Member, Tier


@dataclass(frozen=True)
class Refusal:
    """Why a member may not redeem an item: the code a redemption answers, and the text both show."""

    code: ErrorCode
    text: str

    def error(self) -> AppError:
        return AppError(self.code, self.text)


@dataclass(frozen=True)
class Offer:
    """One item as one member sees it at one moment."""

    item: MallItem
    price_points: int
    member_day: bool
    redeemed_in_period: int
    refusal: Refusal | None  # None: redeemable

    @property
    def redeemable(self) -> bool:
        return self.refusal is None

    @property
    def reason(self) -> str | None:
        return self.refusal and self.refusal.code

    @property
    def reason_text(self) -> str | None:
        return self.refusal and self.refusal.text

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def stock_left(self) -> int | None:
        return remaining_stock(self.item)


def price_for(item: MallItem, member_day: bool) -> int:
    if member_day and item.member_day_price_pct is not None:
        return -(-item.price_points * item.member_day_price_pct // 100)  # rounded up
    return item.price_points


def remaining_stock(item: MallItem) -> int | None:
    """What is left to redeem; None when neither the item nor its coupon template has a limit."""
    left = [item.stock, item.coupon_template and left_to_issue(item.coupon_template)]
    return min((n for n in left if n is not None), default=None)


_LIMIT_TEXTS = {"total": "已达兑换上限", "day": "今日已达兑换上限", "week": "本周已达兑换上限",
                "month": "本月已达兑换上限"}


def min_tier_name(level: int) -> str | None:
    """The name of the lowest tier at or above the level (the tiers may skip levels); None above them all."""
    return db.session.execute(select(Tier.name).where(Tier.level >= level).order_by(Tier.level).limit(1)).scalar()


def _refused(code: ErrorCode, text: str | None = None) -> Refusal:
    """The refusal with its own text, or the code's message."""
    return Refusal(code, text or code.message)


def _starts_text(at: datetime) -> str:
    local = at.astimezone(business_tz())
    return f"未开始，{local.month}月{local.day}日 {local:%H:%M} 开始兑换"


def _refusal(item: MallItem, member: Member, at: datetime, member_day: bool, redeemed: int, held: int | None,
             price: int, points: int | None, tier_name: Callable[[int], str | None]) -> Refusal | None:
    if item.sale_starts_at is not None and at < item.sale_starts_at:
        return _refused(MallError.ITEM_SALE_NOT_STARTED, _starts_text(item.sale_starts_at))
    if item.sale_ends_at is not None and at >= item.sale_ends_at:
        return _refused(MallError.ITEM_SALE_ENDED)
    if item.member_day_only and not member_day:
        return _refused(MallError.ITEM_MEMBER_DAY_ONLY, f"仅会员日（每月{current_app.config['MEMBER_DAY']}日）可兑换")
    if item.min_tier_level is not None and member.tier.level < item.min_tier_level:
        name = tier_name(item.min_tier_level)
        return _refused(MallError.ITEM_TIER_REQUIRED, name and f"需要{name}等级及以上")
    template = item.coupon_template
    if template is not None and closed(template, at):
        return _refused(CouponError.COUPON_TEMPLATE_CLOSED)
    if remaining_stock(item) == 0:
        return _refused(MallError.ITEM_OUT_OF_STOCK)
    if item.per_member_limit is not None and redeemed >= item.per_member_limit:
        return _refused(MallError.ITEM_LIMIT_REACHED, _LIMIT_TEXTS[item.limit_period])
    if template is not None and held is not None and member_limit_reached(template, held):
        return _refused(CouponError.COUPON_LIMIT_REACHED)
    if points is not None and points < price:
        return _refused(PointsError.POINTS_INSUFFICIENT)
    return None


def make_offer(item: MallItem, member: Member, at: datetime, redeemed: int, points: int | None,
               held: int | None = None, tier_name: Callable[[int], str | None] = min_tier_name) -> Offer:
    """`points`: the member's usable points, or None to leave that check to the ledger's debit; `held`: the
    member's coupons of a coupon item's template, or None to leave that check to the issuing."""
    member_day = is_member_day(at)
    price = price_for(item, member_day)
    return Offer(item, price, member_day, redeemed,
                 _refusal(item, member, at, member_day, redeemed, held, price, points, tier_name))


def redeemed_counts(member_id: int, items: list[MallItem], at: datetime) -> dict[int, int]:
    """Per item, the member's orders (not cancelled) in the item's current limit period."""
    if not items:
        return {}
    periods = ("day", "week", "month")
    since = {period: period_start(period, at) for period in periods}
    rows = db.session.execute(
        select(MallOrder.item_id, func.count(),
               *(func.sum(case((MallOrder.created_at >= since[period], 1), else_=0)) for period in periods))
        .where(MallOrder.member_id == member_id, MallOrder.state != CANCELLED,
               MallOrder.item_id.in_([item.id for item in items]))
        .group_by(MallOrder.item_id)
    ).all()
    by_item = {row[0]: dict(zip(("total", *periods), (int(n) for n in row[1:]), strict=True)) for row in rows}
    return {item.id: by_item.get(item.id, {}).get(item.limit_period, 0) for item in items}


def _offers(member: Member, items: list[MallItem], points: int) -> list[Offer]:
    at = now()
    counts = redeemed_counts(member.id, items, at)
    held = held_counts(member.id, list({item.coupon_template_id for item in items if item.coupon_template_id}))
    tier_name = cache(min_tier_name)  # a page's tier-gated items: one query per level they name
    return [make_offer(item, member, at, counts[item.id], points, held.get(item.coupon_template_id, 0), tier_name)
            for item in items]


def member_offers(member: Member, points: int, after_id: int | None, limit: int,
                  category_id: int | None = None) -> list[Offer]:
    """The catalogue page for this member: active items whose sale has not ended, newest first."""
    items = newest_first(MallItem, after_id, limit, *on_sale(now()), category_id=category_id)
    return _offers(member, items, points)


def member_offer(member: Member, item_id: int, points: int) -> Offer:
    [offer] = _offers(member, [get_item(item_id, for_members=True)], points)
    return offer


def on_sale(at: datetime) -> tuple:
    """What members see: active items whose sale has not ended."""
    return MallItem.active.is_(True), or_(MallItem.sale_ends_at.is_(None), MallItem.sale_ends_at > at)


def member_categories() -> list[MallCategory]:
    """The categories with something on sale now, in the operators' order."""
    return categories_with_items(on_sale(now()))


# --- operators ---------------------------------------------------------------------------


# Built once: every redemption reads one item. Its coupon template (coupon items only)
# loads when asked for, instead of joining on every read.
_BY_ID = select(MallItem).where(MallItem.id == bindparam("id")).options(lazyload(MallItem.coupon_template))


def get_item(item_id: int, for_members: bool = False) -> MallItem:
    """An item; members do not see inactive ones."""
    item = db.session.scalars(_BY_ID, {"id": item_id}).one_or_none()
    if item is None or (for_members and not item.active):
        raise AppError(MallError.ITEM_NOT_FOUND)
    return item


def items_page(after_id: int | None, limit: int) -> list[MallItem]:
    return newest_first(MallItem, after_id, limit)


def create_item(**fields) -> MallItem:
    if (fields.get("kind") == COUPON_ITEM) != (fields.get("coupon_template_id") is not None):
        raise invalid_field("coupon_template_id", "优惠券商品必填，其他商品不能填写")
    if fields.get("kind") == COUPON_ITEM:
        get_template(fields["coupon_template_id"])
    item = MallItem(**fields)
    _check(item)
    db.session.add(item)
    db.session.flush()
    return item


def update_item(item_id: int, **fields) -> MallItem:
    """Anything but kind and stock: stock moves only by `restock`, relative to what is left."""
    item = get_item(item_id)
    for name, value in fields.items():
        setattr(item, name, value)
    _check(item)
    db.session.flush()
    return item


def _check(item: MallItem) -> None:
    """The item as it will be stored: a PATCH of one end of the window is checked against the other."""
    if item.sale_starts_at and item.sale_ends_at and item.sale_ends_at <= item.sale_starts_at:
        raise invalid_field("sale_ends_at", "须晚于 sale_starts_at")
    if item.category_id is not None:
        with db.session.no_autoflush:  # not the patched item, whose reference is what is checked
            get_category(item.category_id)


def restock(item_id: int, delta: int) -> MallItem:
    """Add (or withdraw) stock relative to what concurrent redemptions left; never below zero."""
    item = get_item(item_id)
    if item.stock is None:  # fixed when the item was created
        raise invalid_field("delta", "该商品库存不限，无需补货")
    moved = db.session.execute(
        update(MallItem).where(MallItem.id == item_id, MallItem.stock + delta >= 0)
        .values(stock=MallItem.stock + delta).execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(item)
    if not moved:
        raise AppError(MallError.STOCK_BELOW_ZERO, details={"stock": item.stock, "delta": delta})
    return item
