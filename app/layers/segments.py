"""Segments: members an operator names by conditions, compiled to one SQL query.

Conditions are a JSON object; every key given must hold (AND), and an empty object is every
member. Types and ranges are checked by the API's schema (app/api/segment_schemas.py); the
rules across keys here. Each key compiles to one WHERE clause on `members`:

| key                          | a member matches when                                              |
|------------------------------|--------------------------------------------------------------------|
| layers                       | their layer in the last RFM run is one of these                    |
| tier_ids                     | their tier is one of these                                         |
| store_ids                    | the store they are attributed to (home store) is one of these      |
| last_purchase_before_days    | they bought (net of refunds), but not since the day N days ago began |
| points_min / points_max      | their points balance is within the range (both ends included)      |
| points_expiring_before       | they hold open points expiring from today up to the day before it  |
| checkin_streak_min           | their check-in run up to today (or yesterday, today unchecked) is ≥ n days |

A new condition (paid or not, once paid plans exist) is one more entry of CONDITIONS.
"""
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, or_, select

from app.clock import start_of_day, today
from app.db_helpers import newest_first
from app.engagement.models import Checkin
from app.errors import AppError, CampaignError, invalid_field
from app.extensions import db
from app.layers.models import MemberLayer, Segment
from app.member_row import Member
from app.points.models import PointLot
from app.purchases.models import Purchase
from app.stores.models import HomeStore

_NET_PURCHASE = Purchase.amount_fen > Purchase.refunded_fen


def _layers(layers: list[str]):
    return Member.id.in_(select(MemberLayer.member_id).where(MemberLayer.layer.in_(layers)))


def _stores(store_ids: list[int]):
    return Member.id.in_(select(HomeStore.member_id).where(HomeStore.store_id.in_(store_ids)))


def _last_purchase_before_days(days: int):
    bought = select(Purchase.id).where(Purchase.member_id == Member.id, _NET_PURCHASE)
    since = start_of_day(today() - timedelta(days=days))
    return and_(exists(bought), ~exists(bought.where(Purchase.created_at >= since)))


def _points_expiring_before(day: str):
    return exists(select(PointLot.id).where(
        PointLot.member_id == Member.id, PointLot.remaining > 0,
        PointLot.expires_on >= today(), PointLot.expires_on < date.fromisoformat(day)))


def _checkin_streak_min(days: int):
    """A run of ≥ n days ends today or yesterday: all n days up to one of them are checked
    (one check-in per member and day, so counting the days is enough)."""
    def all_checked(last: date):
        return select(func.count()).where(Checkin.member_id == Member.id,
                                          Checkin.day.between(last - timedelta(days=days - 1), last)
                                          ).scalar_subquery() == days
    day = today()
    return or_(all_checked(day), all_checked(day - timedelta(days=1)))


CONDITIONS: dict[str, Callable] = {
    "layers": _layers,
    "tier_ids": lambda tier_ids: Member.tier_id.in_(tier_ids),
    "store_ids": _stores,
    "last_purchase_before_days": _last_purchase_before_days,
    "points_min": lambda points: Member.points_balance >= points,
    "points_max": lambda points: Member.points_balance <= points,
    "points_expiring_before": _points_expiring_before,
    "checkin_streak_min": _checkin_streak_min,
}


def check(conditions: dict) -> dict:
    """The conditions as stored, or the 422 naming the field of a rule across keys."""
    if conditions.get("points_min", 0) > conditions.get("points_max", float("inf")):
        raise invalid_field("points_max", "不能小于 points_min")
    if "points_expiring_before" in conditions and date.fromisoformat(conditions["points_expiring_before"]) <= today():
        raise invalid_field("points_expiring_before", "须晚于今天")
    return conditions


def members_matching(conditions: dict):
    """SELECT of the ids of the members matching the conditions."""
    return select(Member.id).where(*(CONDITIONS[key](value) for key, value in conditions.items()))


def count(conditions: dict) -> int:
    return db.session.execute(select(func.count()).select_from(members_matching(conditions).subquery())).scalar_one()


def create_segment(name: str, conditions: dict, actor: str | None) -> Segment:
    segment = Segment(name=name, conditions=check(conditions), created_by=actor)
    db.session.add(segment)
    db.session.flush()
    return segment


def get_segment(segment_id: int) -> Segment:
    segment = db.session.get(Segment, segment_id)
    if segment is None:
        raise AppError(CampaignError.SEGMENT_NOT_FOUND)
    return segment


def segments_page(before_id: int | None, limit: int) -> list[Segment]:
    return newest_first(Segment, before_id, limit)
