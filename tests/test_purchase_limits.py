"""What one staff account may record: a ceiling per purchase and per business day, higher for managers."""
import pytest
import time_machine

from tests.api_routes import snapshot
from tests.api_steps import bought, buy, consistent_ledger, error_code, refund
from tests.helpers import run_in_threads

EVENING = "2026-06-15T15:30:00+00:00"  # 23:30 in Shanghai


@pytest.fixture
def ceilings(app, monkeypatch):
    """Small ceilings (yuan): a clerk 100 a purchase and 300 a day, a manager 1,000 and 2,000."""
    for setting, fen in (("CLERK_PURCHASE_LIMIT_FEN", 100_00), ("CLERK_DAILY_LIMIT_FEN", 300_00),
                         ("MANAGER_PURCHASE_LIMIT_FEN", 1000_00), ("MANAGER_DAILY_LIMIT_FEN", 2000_00)):
        monkeypatch.setitem(app.config, setting, fen)


def test_a_purchase_over_the_clerks_ceiling_needs_a_manager_and_none_may_pass_the_managers(app, world, ceilings):
    alice, clerk, manager = world.member("alice"), world.staff("clerk-a"), world.staff("manager-a")
    assert bought(clerk, alice.member_id, 100_00)["amount_fen"] == 100_00  # the ceiling itself is allowed
    before = snapshot(app)
    over = buy(clerk, alice.member_id, 100_01, order_no="BIG")
    assert (over.status_code, error_code(over)) == (403, "PURCHASE_NEEDS_MANAGER")
    assert over.json["error"]["details"] == {"limit_fen": 100_00}
    for staff in (clerk, manager):
        beyond = buy(staff, alice.member_id, 1000_01, order_no="HUGE")
        assert (beyond.status_code, error_code(beyond)) == (403, "PURCHASE_ABOVE_LIMIT")
        assert beyond.json["error"]["details"] == {"limit_fen": 1000_00}
    assert snapshot(app) == before

    assert bought(manager, alice.member_id, 100_01, order_no="BIG")["staff_id"] == world.staff_ids["manager-a"]
    assert consistent_ledger(app, alice.member_id)["balance"] == 200


def test_a_staff_accounts_day_is_capped_refunds_do_not_lower_it_and_the_next_day_starts_afresh(app, world, ceilings):
    """The day is the business day (Asia/Shanghai): 23:30 and 00:30 local are two days."""
    alice, bob, clerk, manager = world.member("alice"), world.member("bob"), world.staff(), world.staff("manager-a")
    with time_machine.travel(EVENING, tick=False) as clock:
        first = bought(clerk, alice.member_id, 100_00)
        bought(clerk, bob.member_id, 100_00)
        replay = bought(clerk, alice.member_id, 100_00, order_no=first["order_no"])  # a replay is no new purchase
        assert replay == first
        bought(clerk, alice.member_id, 50_00)
        before = snapshot(app)
        over = buy(clerk, bob.member_id, 50_01)
        assert (over.status_code, error_code(over)) == (409, "STAFF_DAILY_LIMIT_REACHED")
        assert over.json["error"]["details"] == {"limit_fen": 300_00, "recorded_fen": 250_00}
        assert snapshot(app) == before

        assert refund(manager, first["id"], 100_00).status_code == 201  # refunded: still counted
        assert error_code(buy(clerk, bob.member_id, 50_01)) == "STAFF_DAILY_LIMIT_REACHED"
        assert bought(clerk, bob.member_id, 50_00)["amount_fen"] == 50_00  # exactly up to the ceiling
        assert bought(manager, bob.member_id, 50_01)["amount_fen"] == 50_01  # the manager's own day

        clock.shift(3600)  # 00:30 the next day
        assert bought(clerk, bob.member_id, 100_00)["amount_fen"] == 100_00


def test_concurrent_purchases_by_one_clerk_never_pass_the_days_ceiling(app, world, ceilings, is_postgres,
                                                                       monkeypatch):
    """40 purchases of 10 yuan for 40 members (no member lock in common) by one clerk at once:
    the staff row's lock queues them, so exactly 30 fit the 300 yuan day and the rest are refused."""
    if not is_postgres:
        pytest.skip("row locks are PostgreSQL's; SQLite runs one writer at a time")
    monkeypatch.setitem(app.config, "LOGIN_RATE", "1000/minute")  # 40 members log in first
    clerk = world.staff()
    members = [world.member(f"shopper-{i}").member_id for i in range(40)]
    replies = run_in_threads(len(members), lambda i: buy(clerk, members[i], 10_00))
    outcomes = sorted((reply.status_code, reply.status_code == 201 or error_code(reply)) for reply in replies)
    assert outcomes == [(201, True)] * 30 + [(409, "STAFF_DAILY_LIMIT_REACHED")] * 10
