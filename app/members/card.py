"""The electronic member card as the mini-program shows it."""
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import ScalarSelect

from app.clock import now
from app.extensions import db
from app.member_row import Member, Tier
from app.members.tiers import level_above
from app.points.service import SUMMARY_COLUMNS, summary_of, summary_params


def card_query(coupons_held: ScalarSelect) -> Select:
    """Everything the card shows beyond the member row, as one statement (one round trip):
    the points summary, the tier above the member's (NULLs at the top tier) and the coupons
    held, a scalar subquery the caller brings from the mall (app/api/member.py), so the card
    does not import app/mall.

    Bound by :member_id, :day and :at. Build it once: building a select costs more than
    running it (bench/card_read).
    """
    current, upcoming = aliased(Tier), aliased(Tier)
    return (
        select(*SUMMARY_COLUMNS, upcoming.name, upcoming.level, upcoming.growth_threshold, coupons_held)
        .select_from(Member)
        .join(current, current.id == Member.tier_id)
        .outerjoin(upcoming, upcoming.level == level_above(current.level))
        .where(Member.id == bindparam("member_id"))
    )


def tier_view(tier) -> dict:
    return {
        "id": tier.id, "level": tier.level, "name": tier.name,
        "growth_threshold": tier.growth_threshold,
        "points_multiplier_pct": tier.points_multiplier_pct,
        "benefits": tier.benefits,
    }


def card_view(member: Member, query: Select) -> dict:
    """The member's card, its figures read with `query` (a card_query)."""
    *points_figures, next_name, next_level, next_threshold, coupons_count = db.session.execute(
        query, {**summary_params(member.id), "at": now()}).one()
    points = summary_of(member, *points_figures)
    return {
        "card_no": member.card_no,
        "member_id": member.id,
        "nickname": member.nickname,
        "tier": tier_view(member.tier),
        "growth": member.growth,
        "next_tier": None if next_level is None else {
            "name": next_name,
            "level": next_level,
            "growth_threshold": next_threshold,
            "growth_needed": max(next_threshold - member.growth, 0),
        },
        "points": {
            "balance": points.usable,
            "next_expiry": points.next_expiry_on and {
                "date": points.next_expiry_on.isoformat(), "amount": points.next_expiry_amount,
            },
        },
        "coupons_count": coupons_count,
    }
