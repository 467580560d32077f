"""The additive facts of one business day, per (tier, store, detail): what the rollup job
writes into daily_facts, and what a page reads live for the days not rolled up yet.

The tier is the member's at the end of the day (a tier change's record says what it was
before), except for a new member (the tier they joined in) and a tier change (the tier
reached; the detail names the one left), so that members per tier add up from their changes.
The store is where a purchase, a refund or a verification happened; for everything else it
is the member's store of attribution (their home store), NO_STORE if none. Each fact is a
count or a sum over rows of one day (or a part of it: today so far, or since the last time
today was rolled up), read through an index on its time column.
"""
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, String, cast, func, literal, select, union_all

from app.clock import start_of_day
from app.engagement.models import CHECKIN, Checkin
from app.extensions import db
from app.mall.benefit_models import BenefitGrant
from app.mall.models import Coupon, CouponVerification
from app.member_row import Member
from app.members.models import TierChange
from app.numbers.models import NO_STORE
from app.points.models import POINTS, LedgerEntry
from app.purchases.models import Purchase, Refund
from app.stores.models import HomeStore

Fact = tuple[str, int, int, str, int]  # metric, tier_id, store_id, detail, value


def tier_at(instant):
    """The member's tier at an instant (a time, or a time column): the tier their first change
    after it left, else their tier now."""
    left = (select(TierChange.from_tier_id)
            .where(TierChange.member_id == Member.id, TierChange.created_at >= instant)
            .order_by(TierChange.created_at, TierChange.id).limit(1).scalar_subquery())
    return func.coalesce(left, Member.tier_id)


def _summed(metric: str, rows):
    """Σ value of the rows (tier_id, store_id, detail, value) per tier, store and detail."""
    rows = rows.subquery()
    keys = (rows.c.tier_id, rows.c.store_id, rows.c.detail)
    return select(cast(literal(metric), String).label("metric"), *keys,
                  cast(func.sum(rows.c.value), BigInteger).label("value")).group_by(*keys)


def _of_members(source, member_id, *where, tier, value=1, store=None, detail="", joins=()):
    """Rows of a table joined to their member (and the member's home store)."""
    rows = source.__table__
    for table, on in joins:
        rows = rows.join(table, on)
    if source is not Member:
        rows = rows.join(Member, Member.id == member_id)
    rows = rows.outerjoin(HomeStore, HomeStore.member_id == Member.id)
    return select(
        tier.label("tier_id"),
        (store if store is not None else func.coalesce(HomeStore.store_id, NO_STORE)).label("store_id"),
        (cast(literal(detail), String) if isinstance(detail, str) else detail).label("detail"),
        (cast(literal(value), BigInteger) if isinstance(value, int) else value).label("value"),
    ).select_from(rows).where(*where)


def facts_of_day(day: date, since: datetime | None = None, until: datetime | None = None) -> list[Fact]:
    """The facts of the day's rows from `since` to `until` (the whole day by default), tiers as at `until`."""
    since, until = since or start_of_day(day), until or start_of_day(day + timedelta(days=1))
    at_end = tier_at(until)

    def during(column):
        return (column >= since, column < until)

    verified = (Coupon, Coupon.id == CouponVerification.coupon_id),
    refunded = (Purchase, Purchase.id == Refund.purchase_id),
    purchase = dict(tier=at_end, store=Purchase.store_id)
    verification = dict(tier=at_end, store=CouponVerification.store_id, joins=verified)
    rows = {
        "new_members": _of_members(Member, Member.id, *during(Member.created_at), tier=tier_at(Member.created_at)),
        "purchases": _of_members(Purchase, Purchase.member_id, *during(Purchase.created_at), **purchase),
        "spend_fen": _of_members(Purchase, Purchase.member_id, *during(Purchase.created_at), **purchase,
                                 value=Purchase.amount_fen),
        "refunds": _of_members(Refund, Purchase.member_id, *during(Refund.created_at), **purchase, joins=refunded),
        "refunded_fen": _of_members(Refund, Purchase.member_id, *during(Refund.created_at), **purchase,
                                    joins=refunded, value=Refund.amount_fen),
        "points": _of_members(LedgerEntry, LedgerEntry.member_id, LedgerEntry.account == POINTS,
                              *during(LedgerEntry.created_at), tier=at_end, detail=LedgerEntry.kind,
                              value=LedgerEntry.delta),
        # a check-in (not a make-up) is of the day it is made
        "checkins": _of_members(Checkin, Checkin.member_id, *during(Checkin.created_at), Checkin.kind == CHECKIN,
                                tier=at_end),
        "coupons_issued": _of_members(Coupon, Coupon.member_id, *during(Coupon.issued_at), tier=at_end),
        "verifications": _of_members(CouponVerification, Coupon.member_id, *during(CouponVerification.verified_at),
                                     **verification),
        "verifications_undone": _of_members(CouponVerification, Coupon.member_id,
                                            *during(CouponVerification.undone_at), **verification),
        "benefits_granted": _of_members(BenefitGrant, BenefitGrant.member_id, *during(BenefitGrant.granted_at),
                                        tier=at_end),
        "benefits_claimed": _of_members(BenefitGrant, BenefitGrant.member_id, *during(BenefitGrant.claimed_at),
                                        tier=at_end),
        # joining is not a change: a record from no tier is left out
        "tier_changes": _of_members(TierChange, TierChange.member_id, *during(TierChange.created_at),
                                    TierChange.from_tier_id.is_not(None), tier=TierChange.to_tier_id,
                                    detail=cast(TierChange.from_tier_id, String)),
    }
    every = union_all(*(_summed(metric, stmt) for metric, stmt in rows.items()))  # one round trip
    return [(metric, tier, store, detail, int(value)) for metric, tier, store, detail, value
            in db.session.execute(select(every.subquery()))]
