"""Members: the card, tiers and their review, tier benefits to claim."""
from app.events import subscribe


def register_handlers() -> None:
    """Grant the upgrade pack when a member reaches a tier."""
    from app.members import benefits

    subscribe("member.tier_changed", benefits.on_tier_changed)
