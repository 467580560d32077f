"""What the console's member page reads, through the admin API: the card, the tier history,
open lots, coupons, orders, purchases, check-ins, referrals and messages, each newest first."""
import pytest
import time_machine

from tests.api_steps import bought, error_code
from tests.engagement_steps import checked_in, checkin_rules, local
from tests.helpers import Caller

ADMIN = "/api/v1/admin/members"
LISTS = ("tier-changes", "points/lots", "coupons", "mall-orders", "purchases", "checkins", "referrals", "messages")


@pytest.fixture
def clock():
    with time_machine.travel(local("2026-03-01 10:00"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def alice(app, world, clock):
    """Alice checked in, bought for 1,200 yuan (普通 → 银卡) then 100 yuan (×1.2), and invited Bob."""
    checkin_rules(app)
    alice = world.member("alice")
    checked_in(alice)  # 5 points, 1 growth
    staff = world.staff()
    alice.purchases = [bought(staff, alice.member_id, 1200_00), bought(staff, alice.member_id, 100_00)]
    code = alice.get("/api/v1/member/invitation").json["code"]
    reply = Caller(app).post("/api/v1/auth/member/login", json={"code": "bob", "invite_code": code})
    assert reply.status_code == 200, reply.json
    alice.bob_id = reply.json["member_id"]
    return alice


def items(admin, member_id: int, path: str, **query) -> list[dict]:
    reply = admin.get(f"{ADMIN}/{member_id}/{path}", query_string=query)
    assert reply.status_code == 200, reply.json
    return reply.json["items"]


def test_the_card_shows_tier_growth_and_points_as_the_member_sees_them(world, alice):
    card = world.admin().get(f"{ADMIN}/{alice.member_id}/card")
    assert card.status_code == 200, card.json
    assert (card.json["tier"]["name"], card.json["growth"], card.json["points"]["balance"]) == ("银卡", 1301, 1325)
    assert card.json == alice.get("/api/v1/member/card").json


def test_the_history_lists_hold_what_happened_newest_first(world, alice):
    admin, member_id = world.admin(), alice.member_id
    changes = items(admin, member_id, "tier-changes")
    assert [(c["from_tier"]["name"], c["to_tier"]["name"], c["reason"]) for c in changes] == [
        ("普通", "银卡", "purchase")]
    # the check-in's 5, 1,200 yuan at 普通's ×1 = 1,200, then 100 yuan at 银卡's ×1.2 = 120: all until 31.12.
    # next year, so soonest expiring first is oldest first
    assert [(lot["amount"], lot["remaining"], lot["expires_on"]) for lot in items(admin, member_id, "points/lots")] == [
        (5, 5, "2027-12-31"), (1200, 1200, "2027-12-31"), (120, 120, "2027-12-31")]
    assert [p["amount_fen"] for p in items(admin, member_id, "purchases")] == [100_00, 1200_00]
    assert [(c["day"], c["kind"], c["points"]) for c in items(admin, member_id, "checkins")] == [
        ("2026-03-01", "checkin", 5)]
    assert [(r["invitee_id"], r["state"]) for r in items(admin, member_id, "referrals")] == [(alice.bob_id, "pending")]
    assert items(admin, member_id, "coupons") == items(admin, member_id, "mall-orders") == []


def test_the_lists_page_by_cursor(world, alice):
    admin, member_id = world.admin(), alice.member_id
    first = admin.get(f"{ADMIN}/{member_id}/points/lots", query_string={"limit": 2})
    assert [lot["amount"] for lot in first.json["items"]] == [5, 1200]
    rest = items(admin, member_id, "points/lots", limit=2, cursor=first.json["next_cursor"])
    assert [lot["amount"] for lot in rest] == [120]


def test_an_unknown_member_is_member_not_found_on_every_list(world):
    admin = world.admin()
    for path in ("card", *LISTS):
        reply = admin.get(f"{ADMIN}/999/{path}")
        assert (reply.status_code, error_code(reply)) == (404, "MEMBER_NOT_FOUND"), path


def test_a_member_cannot_read_the_operators_lists(world, alice):
    for path in ("card", *LISTS):
        reply = alice.get(f"{ADMIN}/{alice.member_id}/{path}")
        assert (reply.status_code, error_code(reply)) == (403, "AUDIENCE_FORBIDDEN"), path
