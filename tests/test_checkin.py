"""Check-in: one per business day, daily and streak rewards through the ledger, makeups
that join runs, the calendar, and the proofs under concurrency and at midnight."""
from collections import Counter

import pytest
import time_machine

from app.engagement import streaks
from app.engagement.models import Checkin, MakeupCard
from app.points.models import LedgerEntry
from tests.api_routes import snapshot
from tests.api_steps import bought, error_code
from tests.engagement_steps import (
    BASE_CHECKIN_RULES,
    CALENDAR,
    CHECKIN_RULES,
    add_points,
    check_in,
    checked_in,
    checkin_rules,
    count,
    create_task,
    entries,
    local,
    make_up,
    operator,
)
from tests.helpers import assert_ledger_consistent, run_in_threads


@pytest.fixture
def clock():
    with time_machine.travel(local("2026-03-01 10:00"), tick=False) as traveller:
        yield traveller


def day(clock, text: str) -> None:
    clock.move_to(local(f"{text} 10:00"))


# --- one check-in a day ----------------------------------------------------------------


def test_a_check_in_pays_the_daily_reward_through_the_ledger(app, world, clock):
    checkin_rules(app)
    alice = world.member("alice")
    reply = checked_in(alice)
    assert (reply["day"], reply["kind"], reply["points"], reply["growth"], reply["streak"]) == (
        "2026-03-01", "checkin", 5, 1, 1)
    assert entries(app, alice.member_id, "checkin") == [5]
    assert entries(app, alice.member_id, "checkin", account="growth") == [1]
    with app.app_context():
        assert assert_ledger_consistent(alice.member_id)["balance"] == 5


def test_a_second_check_in_the_same_day_is_refused_and_pays_nothing(app, world, clock):
    checkin_rules(app)
    alice = world.member("alice")
    checked_in(alice)
    before = snapshot(app)
    again = check_in(alice)
    assert (again.status_code, error_code(again)) == (409, "CHECKIN_ALREADY_DONE")
    assert snapshot(app) == before


def test_23_59_59_and_00_00_01_shanghai_time_are_two_business_days(app, world, clock):
    checkin_rules(app)
    clock.move_to(local("2026-03-02 23:59:59"))
    alice = world.member("alice")
    assert checked_in(alice)["day"] == "2026-03-02"
    clock.move_to(local("2026-03-03 00:00:01"))
    second = checked_in(alice)
    assert (second["day"], second["streak"]) == ("2026-03-03", 2)


def test_00_00_01_and_23_59_59_shanghai_time_are_one_business_day_across_two_utc_dates(app, world, clock):
    """16:00:01 UTC on the 1st and 15:59:59 UTC on the 2nd are both 2 March in Shanghai."""
    checkin_rules(app)
    clock.move_to(local("2026-03-02 00:00:01"))
    alice = world.member("alice")
    assert checked_in(alice)["day"] == "2026-03-02"
    clock.move_to(local("2026-03-02 23:59:59"))
    assert error_code(check_in(alice)) == "CHECKIN_ALREADY_DONE"


# --- streaks ---------------------------------------------------------------------------


def test_a_streak_reward_is_paid_on_reaching_its_day_and_a_missed_day_restarts_the_run(app, world, clock):
    checkin_rules(app)
    alice = world.member("alice")
    replies = []
    for date in ("2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"):
        day(clock, date)
        replies.append(checked_in(alice))
    assert [reply["streak"] for reply in replies] == [1, 2, 3, 4]
    assert [reply["streak_rewards"] for reply in replies] == [
        [], [], [{"streak_day": 3, "milestone": 3, "points": 10, "growth": 2}], []]
    day(clock, "2026-03-06")  # the 5th was missed
    assert checked_in(alice)["streak"] == 1
    assert entries(app, alice.member_id, "checkin_streak") == [10]
    assert entries(app, alice.member_id, "checkin_streak", account="growth") == [2]


@pytest.mark.parametrize(("cycle_days", "paid"), [(None, [10]), (3, [10, 10])])
def test_a_cycle_restarts_the_milestones_after_n_days_or_the_run_keeps_counting(app, world, clock,
                                                                                   cycle_days, paid):
    checkin_rules(app, cycle_days=cycle_days)
    alice = world.member("alice")
    for n in range(1, 7):
        day(clock, f"2026-03-0{n}")
        checked_in(alice)
    assert entries(app, alice.member_id, "checkin_streak") == paid


def test_the_tier_multiplier_applies_to_check_in_points_only_where_the_tier_benefit_says_so(app, world, clock):
    """金卡 (1.5x, checkin_multiplier) earns floor(5 × 1.5) = 7 daily and 15 on day 3;
    银卡 (1.2x, no flag) earns the base. Growth is never multiplied."""
    checkin_rules(app)
    gold, silver = world.member("gold"), world.member("silver")
    clerk = world.staff()
    bought(clerk, gold.member_id, 5000_00)
    bought(clerk, silver.member_id, 1000_00)
    assert [gold.get("/api/v1/member/card").json["tier"]["name"],
            silver.get("/api/v1/member/card").json["tier"]["name"]] == ["金卡", "银卡"]
    for n in (1, 2, 3):
        day(clock, f"2026-03-0{n}")
        checked_in(gold)
        checked_in(silver)
    assert (entries(app, gold.member_id, "checkin"), entries(app, gold.member_id, "checkin_streak")) == (
        [7, 7, 7], [15])
    assert (entries(app, silver.member_id, "checkin"), entries(app, silver.member_id, "checkin_streak")) == (
        [5, 5, 5], [10])
    assert entries(app, gold.member_id, "checkin", account="growth") == [1, 1, 1]


@pytest.mark.parametrize(("streak", "cycle_days", "upcoming"), [
    (0, None, (3, 3)), (3, None, (7, 7)), (7, None, None),  # a run without a cycle has nothing after day 7
    (8, 7, (10, 3)), (9, 7, (10, 3)), (10, 7, (14, 7)), (13, 7, (14, 7)),  # day 10 is cycle day 3
])
def test_the_next_streak_reward_is_found_across_cycles(streak, cycle_days, upcoming):
    """(position in the run, milestone) of the next reward, for milestones on days 3 and 7."""
    assert streaks.next_milestone({3, 7}, streak, cycle_days) == upcoming


# --- makeups ---------------------------------------------------------------------------


def test_a_makeup_joins_two_runs_and_pays_the_streak_reward_that_became_due_once(app, world, clock):
    """Runs 1–3 and 5–7 March each earned the 3-day reward; filling the 4th makes a run of 7,
    which earns the 7-day reward once; the 3-day reward is not paid a third time."""
    checkin_rules(app, streak_rewards=[{"day": 3, "points": 10}, {"day": 7, "points": 30}])
    alice = world.member("alice")
    for date in ("2026-03-01", "2026-03-02", "2026-03-03", "2026-03-05", "2026-03-06", "2026-03-07"):
        day(clock, date)
        checked_in(alice)
    day(clock, "2026-03-08")
    reply = make_up(alice, "2026-03-04")
    assert reply.status_code == 201, reply.json
    assert (reply.json["kind"], reply.json["paid_with"], reply.json["streak"]) == ("makeup", "points", 7)
    assert reply.json["streak_rewards"] == [{"streak_day": 7, "milestone": 7, "points": 30, "growth": 0}]
    assert entries(app, alice.member_id, "checkin_makeup") == [-20]

    assert error_code(make_up(alice, "2026-03-04")) == "CHECKIN_ALREADY_DONE"
    assert checked_in(alice)["streak"] == 8
    assert entries(app, alice.member_id, "checkin_streak") == [10, 10, 30]
    assert entries(app, alice.member_id, "checkin") == [5] * 8  # the made-up day pays its daily reward
    with app.app_context():
        assert assert_ledger_consistent(alice.member_id)["balance"] == 5 * 8 + 50 - 20


def test_in_a_cycle_a_joined_run_is_paid_what_an_unbroken_run_of_its_length_earns(app, world, clock):
    """Cycle 3, reward on cycle day 3. Runs 1–2 and 4–9 March: the second earned twice (6th,
    9th). Filling the 3rd makes a 9-day run, worth three rewards: one more is paid."""
    checkin_rules(app, cycle_days=3, streak_rewards=[{"day": 3, "points": 10}])
    alice = world.member("alice")
    for n in (1, 2, 4, 5, 6, 7):
        day(clock, f"2026-03-0{n}")
        checked_in(alice)
    alice = world.member("alice")  # a fresh token: a week has passed
    for n in (8, 9):
        day(clock, f"2026-03-0{n}")
        checked_in(alice)
    assert entries(app, alice.member_id, "checkin_streak") == [10, 10]
    day(clock, "2026-03-10")
    reply = make_up(alice, "2026-03-03")
    assert reply.status_code == 201, reply.json
    assert reply.json["streak_rewards"] == [{"streak_day": 9, "milestone": 3, "points": 10, "growth": 0}]
    assert entries(app, alice.member_id, "checkin_streak") == [10, 10, 10]


def test_a_makeup_can_be_paid_with_a_makeup_card_earned_from_a_task(app, world, clock, fake_wechat):
    checkin_rules(app)
    create_task(world, kind="bind_phone", reward_points=0, reward_makeup_cards=1, auto_pay=True)
    alice = world.member("alice")
    assert error_code(make_up(alice, "2026-02-28", pay_with="card")) == "MAKEUP_BEFORE_JOINING"
    day(clock, "2026-03-03")
    assert error_code(make_up(alice, "2026-03-01", pay_with="card")) == "MAKEUP_NO_CARD"
    assert alice.post("/api/v1/member/phone", json={"code": "phone-13800138000"}).status_code == 200
    assert alice.get(CALENDAR).json["makeup"]["cards"] == 1

    reply = make_up(alice, "2026-03-01", pay_with="card")
    assert reply.status_code == 201, reply.json
    assert reply.json["paid_with"] == "card"
    assert entries(app, alice.member_id, "checkin_makeup") == []  # no points spent
    assert alice.get(CALENDAR).json["makeup"]["cards"] == 0
    assert count(app, MakeupCard, member_id=alice.member_id) == 1
    assert error_code(make_up(alice, "2026-03-02", pay_with="card")) == "MAKEUP_NO_CARD"


def test_each_refused_makeup_has_its_own_code_and_writes_nothing(app, world, clock):
    checkin_rules(app, makeup_window_days=7, makeup_monthly_quota=1)
    alice = world.member("alice")  # joined 1 March
    add_points(app, alice.member_id, 100)
    day(clock, "2026-03-15")
    bob = world.member("bob")  # joined 15 March, no points
    day(clock, "2026-03-18")
    alice = world.member("alice")  # a fresh token: the first one has expired
    checked_in(alice)
    day(clock, "2026-03-20")
    refusals = [
        (alice, "2026-03-21", "points", 422, "MAKEUP_FUTURE_DAY"),
        (alice, "2026-03-20", "points", 422, "MAKEUP_FUTURE_DAY"),  # today: check in instead
        (bob, "2026-03-14", "points", 422, "MAKEUP_BEFORE_JOINING"),
        (alice, "2026-03-12", "points", 422, "MAKEUP_BEYOND_WINDOW"),  # window: 13–19 March
        (alice, "2026-03-18", "points", 409, "CHECKIN_ALREADY_DONE"),
        (bob, "2026-03-16", "points", 409, "POINTS_INSUFFICIENT"),
        (bob, "2026-03-16", "card", 409, "MAKEUP_NO_CARD"),
    ]
    before = snapshot(app)
    for member, date, pay_with, status, code in refusals:
        reply = make_up(member, date, pay_with)
        assert (reply.status_code, error_code(reply)) == (status, code), (date, reply.json)
    assert snapshot(app) == before

    assert make_up(alice, "2026-03-13").status_code == 201  # the window's first day
    before = snapshot(app)
    over = make_up(alice, "2026-03-14")
    assert (over.status_code, error_code(over)) == (409, "MAKEUP_QUOTA_EXCEEDED")
    assert snapshot(app) == before


def test_the_makeup_quota_counts_makeups_made_in_the_current_business_month(app, world, clock):
    day(clock, "2026-03-28")
    checkin_rules(app, makeup_monthly_quota=1)
    alice = world.member("alice")
    add_points(app, alice.member_id, 100)
    clock.move_to(local("2026-03-31 23:59:00"))
    assert make_up(alice, "2026-03-30").status_code == 201
    assert error_code(make_up(alice, "2026-03-29")) == "MAKEUP_QUOTA_EXCEEDED"
    clock.move_to(local("2026-04-01 00:01:00"))  # still 31 March in UTC
    assert make_up(alice, "2026-03-29").status_code == 201


def test_concurrent_makeups_of_the_same_day_make_one_and_charge_once(app, world):
    with time_machine.travel(local("2026-03-01 10:00"), tick=True) as traveller:
        checkin_rules(app)
        alice = world.member("alice")
        add_points(app, alice.member_id, 1000)
        traveller.move_to(local("2026-03-03 10:00"))
        results = run_in_threads(10, lambda i: make_up(alice, "2026-03-02").status_code)
    assert Counter(results) == {201: 1, 409: 9}
    assert count(app, Checkin, member_id=alice.member_id) == 1
    assert entries(app, alice.member_id, "checkin_makeup") == [-20]
    assert entries(app, alice.member_id, "checkin") == [5]


# --- the calendar ----------------------------------------------------------------------


def test_the_calendar_shows_each_days_state_the_streak_and_the_next_reward(app, world, clock):
    checkin_rules(app, streak_rewards=[{"day": 3, "points": 10}, {"day": 7, "points": 30}],
                  makeup_window_days=3)
    day(clock, "2026-03-02")
    alice = world.member("alice")
    add_points(app, alice.member_id, 100)
    for date in ("2026-03-02", "2026-03-05", "2026-03-06"):
        day(clock, date)
        checked_in(alice)
    day(clock, "2026-03-07")
    assert make_up(alice, "2026-03-04").status_code == 201
    calendar = alice.get(CALENDAR).json
    states = {entry["day"][-2:]: (entry["state"], entry["can_make_up"]) for entry in calendar["days"]}
    assert [states[d] for d in ("01", "02", "03", "04", "05", "06", "07", "08")] == [
        ("before_joining", False), ("checked", False), ("missed", False),  # the 3rd is beyond the window
        ("made_up", False), ("checked", False), ("checked", False), ("today", False), ("future", False)]
    assert len(calendar["days"]) == 31
    assert calendar["today"] == {"day": "2026-03-07", "checked": False}
    assert calendar["streak"] == 3  # 4–6 March; today's check-in would make 4
    assert calendar["next_reward"] == {"streak_day": 7, "milestone": 7, "days_to_go": 4, "points": 30, "growth": 0}
    assert calendar["makeup"] == {"window_days": 3, "cost_points": 20, "monthly_quota": 2, "used_this_month": 1,
                                  "cards": 0}
    february = alice.get(f"{CALENDAR}?month=2026-02").json
    assert {entry["state"] for entry in february["days"]} == {"before_joining"} and len(february["days"]) == 28


def test_a_bad_calendar_month_is_a_validation_error(world):
    reply = world.member("alice").get(f"{CALENDAR}?month=2026-13")
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
    assert "month" in reply.json["error"]["details"]["fields"]


# --- concurrency -----------------------------------------------------------------------


def test_fifty_concurrent_check_ins_make_one_check_in_and_one_reward(app, world):
    with time_machine.travel(local("2026-03-01 10:00"), tick=True):
        checkin_rules(app)
        alice = world.member("alice")
        results = run_in_threads(50, lambda i: check_in(alice).status_code)
    assert Counter(results) == {201: 1, 409: 49}
    assert count(app, Checkin, member_id=alice.member_id) == 1
    assert count(app, LedgerEntry, member_id=alice.member_id, kind="checkin") == 2  # one points, one growth
    with app.app_context():
        assert assert_ledger_consistent(alice.member_id)["balance"] == 5


# --- operators -------------------------------------------------------------------------


def test_operators_read_and_replace_the_check_in_rules(app, world):
    admin = operator(app)
    defaults = admin.get(CHECKIN_RULES).json
    assert defaults["daily_points"] > 0 and defaults["streak_rewards"]
    rules = {**BASE_CHECKIN_RULES, "cycle_days": 7, "streak_rewards": [{"day": 7, "points": 50, "growth": 0},
                                                                        {"day": 3, "points": 10, "growth": 1}]}
    assert admin.request("PUT", CHECKIN_RULES, json=rules).status_code == 200
    assert admin.get(CHECKIN_RULES).json["streak_rewards"] == [  # kept in streak-day order
        {"day": 3, "points": 10, "growth": 1}, {"day": 7, "points": 50, "growth": 0}]


@pytest.mark.parametrize(("change", "field"), [
    ({"cycle_days": 5, "streak_rewards": [{"day": 7, "points": 1}]}, "streak_rewards"),  # never reached
    ({"streak_rewards": [{"day": 3, "points": 1}, {"day": 3, "points": 2}]}, "streak_rewards"),
    ({"daily_points": -1}, "daily_points"),
    ({"makeup_window_days": 400}, "makeup_window_days"),
])
def test_check_in_rules_that_make_no_sense_are_refused_and_not_saved(app, world, change, field):
    admin = operator(app)
    before = admin.get(CHECKIN_RULES).json
    reply = admin.request("PUT", CHECKIN_RULES, json={**BASE_CHECKIN_RULES, **change})
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
    assert field in reply.json["error"]["details"]["fields"]
    assert admin.get(CHECKIN_RULES).json == before


def test_operators_see_check_ins_makeups_and_the_check_in_rate_per_day(app, world, clock):
    checkin_rules(app)
    alice, bob = world.member("alice"), world.member("bob")
    add_points(app, bob.member_id, 100)
    checked_in(alice)
    day(clock, "2026-03-02")
    world.member("carol")
    checked_in(alice)
    checked_in(bob)
    assert make_up(bob, "2026-03-01").status_code == 201
    rows = operator(app).get("/api/v1/admin/checkins/numbers?from=2026-03-01&to=2026-03-02").json["items"]
    assert [(r["day"], r["checkins"], r["makeups"], r["members"], r["checkin_rate"]) for r in rows] == [
        ("2026-03-01", 1, 1, 2, 0.5), ("2026-03-02", 2, 0, 3, 0.6667)]
    assert [r["points_paid"] for r in rows] == [10, 10]
    too_long = operator(app).get("/api/v1/admin/checkins/numbers?from=2026-01-01&to=2026-06-01")
    assert (too_long.status_code, error_code(too_long)) == (422, "VALIDATION_ERROR")
