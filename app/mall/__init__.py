"""The points mall, coupons, store codes and in-store verification."""
from app.events import subscribe


def register_handlers() -> None:
    """Offer the points → coupon conversion in the points-expiring reminder."""
    from app.mall import points_conversion

    subscribe("points.expiring", points_conversion.on_points_expiring)
