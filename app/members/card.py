"""The electronic member card as the mini-program shows it."""
from app.members.models import Member
from app.members.tiers import next_tier
from app.points.service import summary


def tier_view(tier) -> dict:
    return {
        "id": tier.id, "level": tier.level, "name": tier.name,
        "growth_threshold": tier.growth_threshold,
        "points_multiplier_pct": tier.points_multiplier_pct,
        "benefits": tier.benefits,
    }


def card_view(member: Member) -> dict:
    points = summary(member)
    upcoming = next_tier(member.tier)
    return {
        "card_no": member.card_no,
        "member_id": member.id,
        "nickname": member.nickname,
        "tier": tier_view(member.tier),
        "growth": member.growth,
        "next_tier": upcoming and {
            "name": upcoming.name,
            "level": upcoming.level,
            "growth_threshold": upcoming.growth_threshold,
            "growth_needed": max(upcoming.growth_threshold - member.growth, 0),
        },
        "points": {
            "balance": points.usable,
            "next_expiry": points.next_expiry_on and {
                "date": points.next_expiry_on.isoformat(), "amount": points.next_expiry_amount,
            },
        },
        # Coupons arrive with the mall (issue 5); the card shows the count from day one.
        "coupons_count": 0,
    }
