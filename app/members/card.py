"""The electronic member card as the mini-program shows it."""
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.members.models import Member, Tier
from app.members.tiers import level_above
from app.points.service import SUMMARY_COLUMNS, summary_of, summary_params

_CURRENT, _NEXT = aliased(Tier), aliased(Tier)
# Everything the card shows beyond the member row, in one statement (one round trip, built
# once): the points summary and the tier above the member's (NULLs at the top tier).
_CARD_FIGURES = (
    select(*SUMMARY_COLUMNS, _NEXT.name, _NEXT.level, _NEXT.growth_threshold)
    .select_from(Member)
    .join(_CURRENT, _CURRENT.id == Member.tier_id)
    .outerjoin(_NEXT, _NEXT.level == level_above(_CURRENT.level))
    .where(Member.id == bindparam("member_id"))
)


def tier_view(tier) -> dict:
    return {
        "id": tier.id, "level": tier.level, "name": tier.name,
        "growth_threshold": tier.growth_threshold,
        "points_multiplier_pct": tier.points_multiplier_pct,
        "benefits": tier.benefits,
    }


def card_view(member: Member, coupons_count: int) -> dict:
    """`coupons_count` comes from the mall (members/ does not depend on app/mall)."""
    *points_figures, next_name, next_level, next_threshold = db.session.execute(
        _CARD_FIGURES, summary_params(member.id)).one()
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
