"""The mall's numbers for operators, over a range of business dates (inclusive).

Redemptions per item (orders, points, how many were cancelled), coupons issued per way
of issue, verifications per store (live and undone, discount given), and members whose
home store each store became. A handful of grouped queries; nothing is stored.
"""
from datetime import date, timedelta

from sqlalchemy import BigInteger, case, cast, func, select

from app.clock import start_of_day
from app.extensions import db
from app.mall.models import CANCELLED, Coupon, CouponVerification, MallItem, MallOrder
from app.stores.models import HomeStore, Store


def _rows(stmt) -> list[dict]:
    return [dict(row._mapping) for row in db.session.execute(stmt)]


def _count_if(condition, value=1):
    """Σ value over the rows meeting the condition, as an integer on both databases."""
    return cast(func.sum(case((condition, value), else_=0)), BigInteger)


def mall_numbers(start: date, end: date) -> dict:
    since, until = start_of_day(start), start_of_day(end + timedelta(days=1))
    live = CouponVerification.undone_at.is_(None)
    return {
        "start": start,
        "end": end,
        "redemptions_by_item": _rows(
            select(MallItem.id.label("item_id"), MallItem.name.label("name"), func.count().label("orders"),
                   _count_if(MallOrder.state != CANCELLED, MallOrder.points).label("points"),
                   _count_if(MallOrder.state == CANCELLED).label("cancelled"))
            .select_from(MallOrder).join(MallItem, MallItem.id == MallOrder.item_id)
            .where(MallOrder.created_at >= since, MallOrder.created_at < until)
            .group_by(MallItem.id, MallItem.name).order_by(MallItem.id)),
        "coupons_issued_by_source": _rows(
            select(Coupon.source.label("source"), func.count().label("issued"))
            .where(Coupon.issued_at >= since, Coupon.issued_at < until)
            .group_by(Coupon.source).order_by(Coupon.source)),
        "verifications_by_store": _rows(
            select(Store.id.label("store_id"), Store.name.label("name"),
                   _count_if(live).label("verified"), _count_if(~live).label("undone"),
                   _count_if(live, CouponVerification.discount_fen).label("discount_fen"))
            .select_from(CouponVerification).join(Store, Store.id == CouponVerification.store_id)
            .where(CouponVerification.verified_at >= since, CouponVerification.verified_at < until)
            .group_by(Store.id, Store.name).order_by(Store.id)),
        "home_members_by_store": _rows(
            select(Store.id.label("store_id"), Store.name.label("name"), func.count().label("members"))
            .select_from(HomeStore).join(Store, Store.id == HomeStore.store_id)
            .where(HomeStore.attributed_at >= since, HomeStore.attributed_at < until)
            .group_by(Store.id, Store.name).order_by(Store.id)),
    }
