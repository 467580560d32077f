"""Members: the card, tiers and their review, tier benefits to claim."""
