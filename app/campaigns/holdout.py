"""Who is held out: fixed per member and campaign, at random, and unguessable.

HMAC-SHA256(SECRET_KEY, "campaign:<id>:member:<id>") read as a number in [0, 1): the member is
held out when it is below the campaign's share. The same member in the same campaign always
lands in the same group (a resumed or repeated launch agrees with the first), another
campaign draws again, and nobody can pick the groups without the key.
"""
import hashlib
import hmac

from flask import current_app


def draw(campaign_id: int, member_id: int) -> float:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"campaign:{campaign_id}:member:{member_id}".encode(),
                      hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def held_out(campaign_id: int, member_id: int, holdout_pct: int) -> bool:
    return draw(campaign_id, member_id) < holdout_pct / 100
