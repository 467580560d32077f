"""Members: login, profile and phone, the card, tiers and their review (the member row itself:
app/member_row.py)."""
