"""Purchases and refunds recorded by store staff, as they reach points, growth and the tier."""
import pytest
import time_machine
from itsdangerous import URLSafeTimedSerializer

from app.security import STAFF, issue_token
from tests.api_routes import snapshot
from tests.api_steps import (
    PURCHASES,
    bought,
    buy,
    consistent_ledger,
    error_code,
    forged_code,
    lookup_ticket,
    member_code,
    refund,
    tier_history,
)

STEP_START = "2026-06-15T04:00:00+00:00"  # the start of a member code's 30 s step


def card_of(member) -> dict:
    return member.get("/api/v1/member/card").json


def test_points_are_amount_times_rate_times_the_tier_multiplier_rounded_down(app, world):
    """Growth takes no multiplier; the multiplier is the tier's at the time of the purchase."""
    alice, clerk = world.member("alice"), world.staff()
    first = bought(clerk, alice.member_id, 5000_00, order_no="A-1")
    assert first["points_earned"] == 5000  # earned at 普通 (1x), though it lifts her to 金卡
    assert {key: first[key] for key in ("store_id", "member_id", "staff_id", "order_no", "amount_fen",
                                        "refunded_fen", "growth_earned")} == {
        "store_id": world.stores["A"], "member_id": alice.member_id, "staff_id": world.staff_ids["clerk-a"],
        "order_no": "A-1", "amount_fen": 5000_00, "refunded_fen": 0, "growth_earned": 5000}

    second = bought(clerk, alice.member_id, 199_99)  # 金卡 earns 1.5x: 299.985 → 299
    assert (second["points_earned"], second["growth_earned"]) == (299, 199)
    card = card_of(alice)
    assert (card["points"]["balance"], card["growth"]) == (5299, 5199)
    assert consistent_ledger(app, alice.member_id)["balance"] == 5299


def test_a_purchase_under_a_yuan_earns_nothing_and_writes_no_entry(app, world):
    alice = world.member("alice")
    assert (bought(world.staff(), alice.member_id, 99)["points_earned"]) == 0
    assert alice.get("/api/v1/member/points/entries").json["items"] == []
    assert consistent_ledger(app, alice.member_id)["balance"] == 0


def test_a_purchase_may_name_the_member_by_their_dynamic_code_while_it_is_fresh(app, world):
    alice, clerk = world.member("alice"), world.staff()
    with time_machine.travel("2026-06-15T04:00:00+00:00", tick=False) as clock:
        code = alice.get("/api/v1/member/card/code").json["code"]
        reply = clerk.post(PURCHASES, json={"member_code": code, "order_no": "BY-CODE", "amount_fen": 88_00})
        assert reply.status_code == 201, reply.json
        assert (reply.json["member_id"], reply.json["points_earned"]) == (alice.member_id, 88)

        clock.shift(60)
        stale = clerk.post(PURCHASES, json={"member_code": code, "order_no": "LATE", "amount_fen": 10_00})
        assert (stale.status_code, error_code(stale)) == (410, "MEMBER_CODE_EXPIRED")
    assert consistent_ledger(app, alice.member_id)["balance"] == 88


def test_a_purchase_crossing_several_thresholds_upgrades_several_levels_at_once(app, world):
    alice, clerk = world.member("alice"), world.staff()
    bought(clerk, alice.member_id, 20000_00)
    assert card_of(alice)["tier"]["name"] == "钻石"
    changes, events = tier_history(app, alice.member_id)
    assert changes == [(world.tiers["普通"], world.tiers["钻石"], "purchase")]  # one change, not three
    assert events == [("tier_upgraded", {"from": "普通", "to": "钻石", "reason": "purchase"})]

    bought(clerk, alice.member_id, 100_00)  # no threshold crossed: nothing recorded
    assert tier_history(app, alice.member_id) == (changes, events)


def test_the_same_order_again_returns_the_same_purchase_and_posts_nothing_more(app, world):
    alice, clerk = world.member("alice"), world.staff()
    first = bought(clerk, alice.member_id, 120_00, order_no="ORDER-7")
    again = buy(world.staff("manager-a"), alice.member_id, 120_00, order_no="ORDER-7")  # same store
    assert again.status_code == 201  # the view answers 201 with the recorded purchase either way
    assert again.json == first
    assert consistent_ledger(app, alice.member_id)["balance"] == 120
    assert len(alice.get("/api/v1/member/points/entries").json["items"]) == 1


def test_the_same_order_with_another_amount_or_member_is_order_duplicate(app, world):
    alice, bob, clerk = world.member("alice"), world.member("bob"), world.staff()
    first = bought(clerk, alice.member_id, 120_00, order_no="ORDER-7")
    for member_id, amount_fen in ((alice.member_id, 121_00), (bob.member_id, 120_00)):
        reply = buy(clerk, member_id, amount_fen, order_no="ORDER-7")
        assert (reply.status_code, error_code(reply)) == (409, "ORDER_DUPLICATE")
        assert reply.json["error"]["details"] == {"purchase_id": first["id"]}
    assert consistent_ledger(app, alice.member_id)["balance"] == 120
    assert consistent_ledger(app, bob.member_id)["balance"] == 0


def test_order_numbers_are_per_store(world):
    alice = world.member("alice")
    in_a = bought(world.staff("clerk-a"), alice.member_id, 10_00, order_no="SAME")
    in_b = bought(world.staff("clerk-b"), alice.member_id, 20_00, order_no="SAME")
    assert in_a["id"] != in_b["id"]
    assert card_of(alice)["points"]["balance"] == 30


def test_partial_refunds_then_the_rest_reverse_exactly_what_was_earned(app, world):
    alice, manager = world.member("alice"), world.staff("manager-a")
    purchase = bought(world.staff(), alice.member_id, 100_01)  # 100 points, 100 growth
    reversed_points = []
    for amount_fen in (33_33, 33_33, 33_35):
        reply = refund(manager, purchase["id"], amount_fen)
        assert reply.status_code == 201, reply.json
        assert (reply.json["purchase_id"], reply.json["amount_fen"]) == (purchase["id"], amount_fen)
        assert reply.json["growth_reversed"] == reply.json["points_reversed"]
        reversed_points.append(reply.json["points_reversed"])
        consistent_ledger(app, alice.member_id)
    assert reversed_points == [33, 33, 34]
    card = card_of(alice)
    assert (card["points"]["balance"], card["growth"]) == (0, 0)
    assert manager.get(f"{PURCHASES}/{purchase['id']}").json["refunded_fen"] == 100_01


def test_a_refund_beyond_what_is_left_is_refused(app, world):
    alice, manager = world.member("alice"), world.staff("manager-a")
    purchase = bought(world.staff(), alice.member_id, 100_00)
    too_much = refund(manager, purchase["id"], 100_01)
    assert (too_much.status_code, error_code(too_much)) == (409, "REFUND_EXCEEDS_PURCHASE")
    assert too_much.json["error"]["details"] == {"refundable_fen": 100_00}

    assert refund(manager, purchase["id"], 60_00).status_code == 201
    rest_plus_one = refund(manager, purchase["id"], 40_01)
    assert (rest_plus_one.status_code, rest_plus_one.json["error"]["details"]) == (409, {"refundable_fen": 40_00})
    assert manager.get(f"{PURCHASES}/{purchase['id']}").json["refunded_fen"] == 60_00
    assert consistent_ledger(app, alice.member_id)["balance"] == 40


def test_the_same_refund_number_again_reverses_once(app, world):
    alice, manager = world.member("alice"), world.staff("manager-a")
    purchase = bought(world.staff(), alice.member_id, 100_00)
    first = refund(manager, purchase["id"], 30_00, refund_no="RF-1")
    again = refund(manager, purchase["id"], 30_00, refund_no="RF-1")
    assert again.json == first.json
    other_amount = refund(manager, purchase["id"], 31_00, refund_no="RF-1")
    assert (other_amount.status_code, error_code(other_amount)) == (409, "REFUND_DUPLICATE")
    assert consistent_ledger(app, alice.member_id)["balance"] == 70


def test_refunding_spent_points_leaves_a_debt_that_the_next_purchases_pay_first(app, world):
    alice, clerk, manager = world.member("alice"), world.staff(), world.staff("manager-a")
    purchase = bought(clerk, alice.member_id, 100_00)
    spent = world.admin().post(f"/api/v1/admin/members/{alice.member_id}/points-adjustments",
                               json={"delta": -80, "reason": "兑换礼品"})
    assert spent.status_code == 201, spent.json

    assert refund(manager, purchase["id"], 100_00).json["points_reversed"] == 100
    state = consistent_ledger(app, alice.member_id)
    assert (state["balance"], state["open_lots"]) == (-80, 0)  # the 80 already spent is owed, not lost
    assert card_of(alice)["points"] == {"balance": -80, "next_expiry": None}

    bought(clerk, alice.member_id, 50_00)  # all 50 pay the debt
    state = consistent_ledger(app, alice.member_id)
    assert (state["balance"], state["open_lots"]) == (-30, 0)

    bought(clerk, alice.member_id, 100_00)  # 30 to the debt, 70 into a lot
    state = consistent_ledger(app, alice.member_id)
    assert (state["balance"], state["open_lots"]) == (70, 70)
    assert card_of(alice)["points"]["next_expiry"]["amount"] == 70


def test_a_clerk_cannot_refund(app, world):
    alice, clerk = world.member("alice"), world.staff("clerk-a")
    purchase = bought(clerk, alice.member_id, 100_00)
    reply = refund(clerk, purchase["id"], 10_00)
    assert (reply.status_code, error_code(reply)) == (403, "ROLE_FORBIDDEN")
    assert clerk.get(f"{PURCHASES}/{purchase['id']}").json["refunded_fen"] == 0
    assert consistent_ledger(app, alice.member_id)["balance"] == 100


def test_a_refund_that_takes_growth_below_the_threshold_downgrades_at_once(app, world):
    alice, manager = world.member("alice"), world.staff("manager-a")
    purchase = bought(world.staff(), alice.member_id, 1010_00)
    assert card_of(alice)["tier"]["name"] == "银卡"

    refund(manager, purchase["id"], 10_00)  # growth 1000: still 银卡
    assert card_of(alice)["tier"]["name"] == "银卡"
    refund(manager, purchase["id"], 1_00)  # growth 999
    card = card_of(alice)
    assert (card["growth"], card["tier"]["name"]) == (999, "普通")

    changes, events = tier_history(app, alice.member_id)
    assert changes == [(world.tiers["普通"], world.tiers["银卡"], "purchase"),
                       (world.tiers["银卡"], world.tiers["普通"], "refund")]
    assert [kind for kind, _ in events] == ["tier_upgraded", "tier_downgraded"]
    assert events[1][1] == {"from": "银卡", "to": "普通", "reason": "refund"}


def test_staff_of_another_store_can_neither_read_nor_refund_a_purchase(app, world):
    alice = world.member("alice")
    purchase = bought(world.staff("clerk-a"), alice.member_id, 100_00)
    read = world.staff("clerk-b").get(f"{PURCHASES}/{purchase['id']}")
    assert (read.status_code, error_code(read)) == (403, "STORE_FORBIDDEN")
    refunded = refund(world.staff("manager-b"), purchase["id"], 10_00)
    assert (refunded.status_code, error_code(refunded)) == (403, "STORE_FORBIDDEN")
    assert consistent_ledger(app, alice.member_id)["balance"] == 100
    assert world.staff("clerk-a").get(f"{PURCHASES}/{purchase['id']}").status_code == 200


def test_an_unknown_purchase_is_purchase_not_found(world):
    manager = world.staff("manager-a")
    assert error_code(manager.get(f"{PURCHASES}/999999")) == "PURCHASE_NOT_FOUND"
    assert error_code(refund(manager, 999999, 1_00)) == "PURCHASE_NOT_FOUND"


def test_points_earned_after_local_midnight_on_new_years_eve_belong_to_the_new_year(world):
    """The lot's expiry follows the business date (Asia/Shanghai), not the UTC date."""
    with time_machine.travel("2026-12-31T16:30:00+00:00", tick=False):  # 00:30 on 1 Jan 2027 in Shanghai
        alice = world.member("alice")
        bought(world.staff(), alice.member_id, 10_00)
        assert card_of(alice)["points"]["next_expiry"] == {"date": "2028-12-31", "amount": 10}


# --- the member must be present: a fresh code or a lookup's ticket, never a bare id ---------


def test_a_bare_member_id_is_refused_and_credits_nothing(app, world):
    """Any clerk could otherwise post points to any id, and learn which ids exist."""
    alice, clerk = world.member("alice"), world.staff()
    before = snapshot(app)
    for body in ({"member_id": alice.member_id}, {"member_id": 424242}):
        reply = clerk.post(PURCHASES, json={**body, "order_no": "BARE", "amount_fen": 100_00})
        assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
        assert "member_id" in reply.json["error"]["details"]["fields"]
    assert snapshot(app) == before


def test_exactly_one_of_the_code_and_the_ticket_names_the_member(app, world):
    alice, clerk = world.member("alice"), world.staff()
    code, ticket = member_code(app, alice.member_id), lookup_ticket(clerk, alice.member_id)
    for named in ({}, {"member_code": code, "lookup_ticket": ticket}):
        reply = clerk.post(PURCHASES, json={**named, "order_no": "WHO", "amount_fen": 100_00})
        assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
        assert "member_code" in reply.json["error"]["details"]["fields"]
    assert consistent_ledger(app, alice.member_id)["balance"] == 0


def test_a_lookup_ticket_names_the_member_until_its_ttl_then_expires(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "MEMBER_LOOKUP_TICKET_TTL", 120)
    alice, clerk = world.member("alice"), world.staff()
    with time_machine.travel(STEP_START, tick=False) as clock:
        reply = clerk.post("/api/v1/staff/member-lookups", json={"code": member_code(app, alice.member_id)})
        ticket = reply.json["lookup_ticket"]
        assert reply.json["lookup_ticket_expires_in"] == 120
        clock.shift(120)  # the member's code changed long ago; the ticket still holds
        first = clerk.post(PURCHASES, json={"lookup_ticket": ticket, "order_no": "T-1", "amount_fen": 50_00})
        assert (first.status_code, first.json["member_id"]) == (201, alice.member_id)
        clock.shift(1)
        late = clerk.post(PURCHASES, json={"lookup_ticket": ticket, "order_no": "T-2", "amount_fen": 50_00})
        assert (late.status_code, error_code(late)) == (410, "LOOKUP_TICKET_EXPIRED")
    assert consistent_ledger(app, alice.member_id)["balance"] == 50


def test_a_forged_ticket_is_invalid(app, world):
    """Tampered, signed with another key, or a token of another kind signed with ours (a staff login)."""
    alice, clerk = world.member("alice"), world.staff()
    ticket = lookup_ticket(clerk, alice.member_id)
    claims = {"member": alice.member_id, "staff": world.staff_ids["clerk-a"], "store": world.stores["A"]}
    forgeries = [
        ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB"),
        URLSafeTimedSerializer("another-key", salt="membermall-member-lookup").dumps(claims),
        issue_token(app.config["SECRET_KEY"], STAFF, world.staff_ids["clerk-a"]),
        "not-a-ticket",
    ]
    for forged in forgeries:
        reply = clerk.post(PURCHASES, json={"lookup_ticket": forged, "order_no": "FORGED", "amount_fen": 100_00})
        assert (reply.status_code, error_code(reply)) == (422, "LOOKUP_TICKET_INVALID"), forged
    assert consistent_ledger(app, alice.member_id)["balance"] == 0


@time_machine.travel(STEP_START, tick=False)
def test_a_code_naming_no_member_is_answered_as_a_wrong_code_of_a_real_one(app, world):
    """No path tells a clerk which member ids exist."""
    alice, clerk = world.member("alice"), world.staff()
    real, wrong_otp = member_code(app, alice.member_id), forged_code(app, alice.member_id)
    unknown_id = f"{real[:2]}{424242:010d}{real[12:]}"
    replies = [clerk.post(PURCHASES, json={"member_code": code, "order_no": "GUESS", "amount_fen": 100_00})
               for code in (wrong_otp, unknown_id)]
    assert [(reply.status_code, reply.json) for reply in replies] == [(404, replies[0].json)] * 2
    assert error_code(replies[0]) == "MEMBER_CODE_INVALID"


@pytest.fixture
def failure_limit(app) -> int:
    return int(app.config["MEMBER_CODE_LOOKUP_FAILURES"].split("/")[0])


@time_machine.travel(STEP_START, tick=False)
def test_wrong_codes_in_purchases_count_against_the_same_limit_as_lookups(app, world, failure_limit):
    """Guessing through the purchase endpoint is no way round the lookup's limit."""
    alice, clerk = world.member("alice"), world.staff()
    good, wrong = member_code(app, alice.member_id), forged_code(app, alice.member_id)
    for i in range(failure_limit - 1):
        reply = clerk.post(PURCHASES, json={"member_code": wrong, "order_no": f"G-{i}", "amount_fen": 100_00})
        assert error_code(reply) == "MEMBER_CODE_INVALID"
    assert error_code(clerk.post("/api/v1/staff/member-lookups", json={"code": wrong})) == "MEMBER_CODE_INVALID"
    for attempt in ({"member_code": good}, {"member_code": wrong}):
        limited = clerk.post(PURCHASES, json={**attempt, "order_no": "AFTER", "amount_fen": 100_00})
        assert (limited.status_code, error_code(limited)) == (429, "RATE_LIMITED")
    assert limited.headers["Retry-After"] == str(limited.json["error"]["details"]["retry_after"])
    assert error_code(clerk.post("/api/v1/staff/member-lookups", json={"code": good})) == "RATE_LIMITED"
    assert consistent_ledger(app, alice.member_id)["balance"] == 0
