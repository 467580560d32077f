"""The points mall, coupons and the tiers' coupon packs, store codes and in-store verification."""
from app.events import subscribe


def register_handlers() -> None:
    """Grant the upgrade pack when a member reaches a tier; offer the points → coupon conversion
    in the points-expiring reminder."""
    from app.mall import benefits, points_conversion

    subscribe("member.tier_changed", benefits.on_tier_changed)
    subscribe("points.expiring", points_conversion.on_points_expiring)
