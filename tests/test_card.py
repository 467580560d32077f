"""The member card as the mini-program shows it: tier, growth, progress, points, expiry."""
import re

import time_machine

from app.demo import TIERS
from tests.api_steps import bought

CARD = "/api/v1/member/card"


def card_of(member) -> dict:
    reply = member.get(CARD)
    assert reply.status_code == 200, reply.json
    return reply.json


def test_a_new_members_card(world):
    alice = world.member("alice")
    card = card_of(alice)
    assert re.fullmatch(r"\d{16}", card["card_no"])
    assert card["member_id"] == alice.member_id
    level, name, threshold, multiplier, benefits = TIERS[0]
    assert card["tier"] == {"id": world.tiers[name], "level": level, "name": name, "growth_threshold": threshold,
                            "points_multiplier_pct": multiplier, "benefits": benefits,
                            "benefit_labels": []}  # 普通 gives nothing beyond the base
    assert card["growth"] == 0
    assert card["next_tier"] == {"name": "银卡", "level": 1, "growth_threshold": 1000, "growth_needed": 1000}
    assert card["points"] == {"balance": 0, "next_expiry": None}
    assert card["coupons_count"] == 0
    assert card_of(world.member("bob"))["card_no"] != card["card_no"]


def test_the_card_shows_growth_and_how_much_more_the_next_tier_needs(world):
    alice, clerk = world.member("alice"), world.staff()
    bought(clerk, alice.member_id, 1234_00)
    card = card_of(alice)
    assert (card["growth"], card["tier"]["name"], card["points"]["balance"]) == (1234, "银卡", 1234)
    assert card["tier"]["benefits"]["discount_pct"] == 98
    assert card["next_tier"] == {"name": "金卡", "level": 2, "growth_threshold": 5000, "growth_needed": 3766}


def test_reaching_a_threshold_exactly_gives_the_tier(world):
    alice = world.member("alice")
    bought(world.staff(), alice.member_id, 5000_00)
    card = card_of(alice)
    assert (card["growth"], card["tier"]["name"]) == (5000, "金卡")
    assert card["next_tier"]["growth_needed"] == 15000


def test_the_top_tier_has_no_next_tier(world):
    alice = world.member("alice")
    bought(world.staff(), alice.member_id, 25000_00)
    card = card_of(alice)
    assert (card["tier"]["name"], card["tier"]["level"]) == ("钻石", 3)
    assert card["next_tier"] is None


def test_the_tier_follows_growth_never_the_points_balance(world):
    alice = world.member("alice")
    adjusted = world.admin().post(f"/api/v1/admin/members/{alice.member_id}/points-adjustments",
                                  json={"delta": 100_000, "reason": "活动奖励"})
    assert adjusted.status_code == 201, adjusted.json
    card = card_of(alice)
    assert (card["points"]["balance"], card["growth"], card["tier"]["name"]) == (100_000, 0, "普通")


def test_the_card_shows_the_next_points_to_expire_across_several_lots(world):
    """Lots expiring on the same day add up; spends take the earliest lots first; a lapsed
    lot leaves the balance at once, before any sweep. Policy year_end:1."""
    alice_id = world.member("alice").member_id

    def buy_on(moment, amount_fen):
        with time_machine.travel(moment, tick=False):
            bought(world.staff(), alice_id, amount_fen)

    buy_on("2025-03-01T04:00:00+00:00", 100_00)  # expires 2026-12-31
    buy_on("2025-11-20T04:00:00+00:00", 50_00)  # expires 2026-12-31
    buy_on("2026-02-01T04:00:00+00:00", 30_00)  # expires 2027-12-31

    with time_machine.travel("2026-06-15T04:00:00+00:00", tick=False):
        alice = world.member("alice")
        assert card_of(alice)["points"] == {"balance": 180, "next_expiry": {"date": "2026-12-31", "amount": 150}}
        spent = world.admin().post(f"/api/v1/admin/members/{alice_id}/points-adjustments",
                                   json={"delta": -120, "reason": "兑换礼品"})
        assert spent.status_code == 201, spent.json
        assert card_of(alice)["points"] == {"balance": 60, "next_expiry": {"date": "2026-12-31", "amount": 30}}

    with time_machine.travel("2026-12-31T15:59:59+00:00", tick=False):  # 23:59:59 on 31 Dec in Shanghai
        alice = world.member("alice")
        assert card_of(alice)["points"] == {"balance": 60, "next_expiry": {"date": "2026-12-31", "amount": 30}}

    with time_machine.travel("2026-12-31T16:00:01+00:00", tick=False):  # 00:00:01 on 1 Jan in Shanghai
        alice = world.member("alice")
        assert card_of(alice)["points"] == {"balance": 30, "next_expiry": {"date": "2027-12-31", "amount": 30}}
