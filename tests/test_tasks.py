"""Tasks: operators define them, domain events move progress in their own transaction,
members claim once per period (or are paid automatically), and bad input is refused."""
import time
from collections import Counter
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import select, update

from app.engagement.models import Task, TaskClaim, TaskProgress
from app.engagement.tasks import period_of
from app.extensions import db
from app.purchases import service as purchases
from app.stores.models import Staff
from tests.api_routes import snapshot
from tests.api_steps import bought, error_code
from tests.engagement_steps import (
    MEMBER_TASKS,
    TASKS,
    add_points,
    checked_in,
    checkin_rules,
    count,
    create_task,
    entries,
    local,
    member_task,
    operator,
    referral_rules,
)
from tests.helpers import Caller, run_in_threads


def claim(member, task_id: int):
    return member.post(f"{MEMBER_TASKS}/{task_id}/claims")


def progress(member, task_id: int) -> tuple[int, str]:
    task = member_task(member, task_id)
    return task["progress"], task["state"]


# --- operators -------------------------------------------------------------------------


def test_operators_create_read_update_and_delete_a_task(app, world):
    admin = operator(app)
    task = create_task(world, title="连续签到7天", kind="checkin_streak", target=7, recurrence="weekly",
                       reward_points=70, reward_makeup_cards=1, ends_at="2030-01-01T00:00:00+08:00")
    assert {key: task[key] for key in ("title", "kind", "target", "recurrence", "reward_points", "reward_growth",
                                       "reward_makeup_cards", "auto_pay", "enabled", "starts_at")} == {
        "title": "连续签到7天", "kind": "checkin_streak", "target": 7, "recurrence": "weekly", "reward_points": 70,
        "reward_growth": 0, "reward_makeup_cards": 1, "auto_pay": False, "enabled": True, "starts_at": None}
    assert admin.get(TASKS).json == {"items": [task], "next_cursor": None}
    stored = admin.get(f"{TASKS}/{task['id']}").json["ends_at"]  # read back from the database
    assert datetime.fromisoformat(stored) == datetime(2029, 12, 31, 16, tzinfo=timezone.utc)
    patched = admin.patch(f"{TASKS}/{task['id']}", json={"title": "连续签到", "reward_points": 80, "enabled": False})
    assert (patched.json["title"], patched.json["reward_points"], patched.json["enabled"], patched.json["target"]) == (
        "连续签到", 80, False, 7)
    assert admin.get(f"{TASKS}/{task['id']}").json == patched.json
    fixed = admin.patch(f"{TASKS}/{task['id']}", json={"kind": "purchases"})
    assert (fixed.status_code, error_code(fixed)) == (422, "VALIDATION_ERROR")  # kind is fixed at creation
    assert admin.request("DELETE", f"{TASKS}/{task['id']}").status_code == 204
    gone = admin.get(f"{TASKS}/{task['id']}")
    assert (gone.status_code, error_code(gone)) == (404, "TASK_NOT_FOUND")


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "share"}, "kind"),
    ({"kind": "bind_phone", "target": 2}, "target"),  # done once: could never reach 2
    ({"kind": "purchases", "reward_points": 0}, "reward_points"),  # rewards nothing
    ({"kind": "purchases", "reward_points": -5}, "reward_points"),
    ({"kind": "purchases", "recurrence": "hourly"}, "recurrence"),
    ({"kind": "purchases", "starts_at": "2026-03-01T10:00:00"}, "starts_at"),  # no offset
    ({"kind": "purchases", "starts_at": "2026-03-02T00:00:00+08:00", "ends_at": "2026-03-01T00:00:00+08:00"},
     "ends_at"),
    ({"kind": "purchases", "page_path": "checkin"}, "page_path"),  # a page lives in a folder
    ({"kind": "purchases", "page_path": "pages/check in/index"}, "page_path"),
    ({"kind": "purchases", "page_path": "https://example.com/pages/a"}, "page_path"),
    ({"kind": "purchases", "page_path": "pages/" + "a" * 123}, "page_path"),  # over 128 characters
    ({"kind": "purchases", "page_path": 7}, "page_path"),
])
def test_a_task_definition_that_makes_no_sense_is_refused_and_nothing_is_written(app, world, fields, field):
    admin = operator(app)
    before = snapshot(app)
    reply = admin.post(TASKS, json={"title": "坏任务", "reward_points": 10, **fields})
    assert (reply.status_code, error_code(reply)) == (422, "VALIDATION_ERROR")
    assert field in reply.json["error"]["details"]["fields"]
    assert snapshot(app) == before


def test_a_task_someone_has_started_cannot_be_deleted(app, world):
    task = create_task(world, kind="purchases", target=3)
    alice = world.member("alice")
    bought(world.staff(), alice.member_id, 10_00)
    before = snapshot(app)
    reply = operator(app).request("DELETE", f"{TASKS}/{task['id']}")
    assert (reply.status_code, error_code(reply)) == (409, "TASK_IN_USE")
    assert snapshot(app) == before


# --- progress from domain events -------------------------------------------------------


def test_each_kind_of_task_moves_with_its_domain_event(app, world, fake_wechat):
    checkin_rules(app)
    referral_rules(app)
    ids = {kind: create_task(world, kind=kind, target=target)["id"] for kind, target in (
        ("complete_profile", 1), ("bind_phone", 1), ("first_purchase", 1), ("purchases", 2),
        ("checkin_streak", 1), ("mall_redeem", 1), ("invite_friends", 1))}
    alice = world.member("alice")
    assert {kind: progress(alice, task_id) for kind, task_id in ids.items()} == {
        kind: (0, "in_progress") for kind in ids}

    alice.patch("/api/v1/member/profile", json={"nickname": "Alice", "gender": "female"})
    assert progress(alice, ids["complete_profile"]) == (0, "in_progress")  # no birthday yet
    alice.patch("/api/v1/member/profile", json={"birthday": "1990-05-01"})
    alice.post("/api/v1/member/phone", json={"code": "phone-13800138000"})
    clerk = world.staff()
    bought(clerk, alice.member_id, 10_00)
    assert progress(alice, ids["purchases"]) == (1, "in_progress")
    bought(clerk, alice.member_id, 10_00)
    checked_in(alice)
    _redeem_in_the_mall(app, world, alice)
    invite_code = alice.get("/api/v1/member/invitation").json["code"]
    friend = Caller(app).post("/api/v1/auth/member/login", json={"code": "bob", "invite_code": invite_code}).json
    Caller(app, friend["token"]).post("/api/v1/member/phone", json={"code": "phone-13900139000"})

    assert {kind: progress(alice, task_id) for kind, task_id in ids.items()} == {
        kind: (target, "claimable") for kind, target in (
            ("complete_profile", 1), ("bind_phone", 1), ("first_purchase", 1), ("purchases", 2),
            ("checkin_streak", 1), ("mall_redeem", 1), ("invite_friends", 1))}


def _redeem_in_the_mall(app, world, member) -> None:
    add_points(app, member.member_id, 100)
    item = operator(app).post("/api/v1/admin/mall-items", json={"name": "电子会员礼", "kind": "virtual",
                                                                 "price_points": 10})
    assert item.status_code == 201, item.json
    order = member.post("/api/v1/member/mall/orders", json={"item_id": item.json["id"]})
    assert order.status_code == 201, order.json


def test_first_purchase_means_the_members_first_purchase_ever(app, world):
    alice = world.member("alice")
    clerk = world.staff()
    bought(clerk, alice.member_id, 10_00)
    task = create_task(world, kind="first_purchase")
    bought(clerk, alice.member_id, 10_00)
    assert progress(alice, task["id"]) == (0, "in_progress")
    bob = world.member("bob")
    bought(clerk, bob.member_id, 10_00)
    assert progress(bob, task["id"]) == (1, "claimable")


def test_a_check_in_streak_task_counts_the_run_including_made_up_days(app, world):
    checkin_rules(app)
    task = create_task(world, kind="checkin_streak", target=3)
    with time_machine.travel(local("2026-03-01 10:00"), tick=False) as clock:
        alice = world.member("alice")
        add_points(app, alice.member_id, 100)
        checked_in(alice)
        clock.move_to(local("2026-03-03 10:00"))
        checked_in(alice)
        assert progress(alice, task["id"]) == (1, "in_progress")
        assert alice.post("/api/v1/member/checkins/makeups", json={"day": "2026-03-02"}).status_code == 201
        assert progress(alice, task["id"]) == (3, "claimable")


def test_progress_is_written_in_the_events_transaction_and_rolls_back_with_it(app, world):
    task = create_task(world, kind="purchases", target=1, auto_pay=True)
    alice = world.member("alice")
    with app.app_context():
        clerk = db.session.get(Staff, world.staff_ids["clerk-a"])
        purchases.record_purchase(clerk, alice.member_id, "ROLLED-BACK", 10_00)
        assert count_in_session(TaskProgress) == 1 and count_in_session(TaskClaim) == 1  # inside: moved and paid
        db.session.rollback()
    assert count(app, TaskProgress) == count(app, TaskClaim) == 0
    assert progress(alice, task["id"]) == (0, "in_progress")


def count_in_session(model) -> int:
    return db.session.query(model).count()


def test_a_task_outside_its_active_window_is_neither_listed_nor_moved(app, world):
    upcoming = create_task(world, kind="purchases", starts_at="2030-01-01T00:00:00+08:00")
    ended = create_task(world, kind="purchases", ends_at="2020-01-01T00:00:00+08:00")
    disabled = create_task(world, kind="purchases", enabled=False)
    alice = world.member("alice")
    bought(world.staff(), alice.member_id, 10_00)
    assert alice.get(MEMBER_TASKS).json == {"items": [], "next_cursor": None}
    assert count(app, TaskProgress) == 0
    before = snapshot(app)
    for task in (upcoming, ended, disabled):
        reply = claim(alice, task["id"])
        assert (reply.status_code, error_code(reply)) == (409, "TASK_NOT_ACTIVE")
    assert snapshot(app) == before


def test_tasks_another_process_writes_count_within_the_cache_time_and_a_disabled_one_at_once(app, world,
                                                                                           monkeypatch):
    """Which tasks are enabled is kept per process for TASKS_CACHE_SECONDS; the tasks
    themselves are read fresh. Another process's writes reach this one as rows changed
    behind its back, as here."""
    monkeypatch.setitem(app.config, "TASKS_CACHE_SECONDS", 0.5)
    alice, clerk = world.member("alice"), world.staff()
    bought(clerk, alice.member_id, 10_00)  # this process now knows of no task
    with app.app_context():
        task = Task(title="别处创建", kind="purchases", target=5, recurrence="once", reward_points=10)
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    bought(clerk, alice.member_id, 10_00)
    assert count(app, TaskProgress) == 0  # not yet seen here
    time.sleep(0.6)
    bought(clerk, alice.member_id, 10_00)
    assert progress(alice, task_id) == (1, "in_progress")

    with app.app_context():
        db.session.execute(update(Task).where(Task.id == task_id).values(enabled=False))
        db.session.commit()
    bought(clerk, alice.member_id, 10_00)  # the cache still names the task; its fresh row says disabled
    with app.app_context():
        assert db.session.execute(select(TaskProgress.progress)).scalar_one() == 1


# --- claims ----------------------------------------------------------------------------


def test_a_claim_pays_the_reward_once_per_period_through_the_ledger(app, world):
    task = create_task(world, kind="purchases", recurrence="daily", reward_points=10, reward_growth=2,
                       reward_makeup_cards=1)
    with time_machine.travel(local("2026-03-02 10:00"), tick=False) as clock:
        alice = world.member("alice")
        bought(world.staff(), alice.member_id, 10_00)
        paid = claim(alice, task["id"])
        assert paid.status_code == 201, paid.json
        assert {key: paid.json[key] for key in ("task_id", "period", "points", "growth", "makeup_cards")} == {
            "task_id": task["id"], "period": "2026-03-02", "points": 10, "growth": 2, "makeup_cards": 1}
        assert progress(alice, task["id"]) == (1, "claimed")
        before = snapshot(app)
        again = claim(alice, task["id"])
        assert (again.status_code, error_code(again)) == (409, "TASK_ALREADY_CLAIMED")
        assert snapshot(app) == before

        clock.move_to(local("2026-03-03 00:00:01"))  # a new daily period
        assert progress(alice, task["id"]) == (0, "in_progress")
        bought(world.staff(), alice.member_id, 10_00)
        assert claim(alice, task["id"]).status_code == 201
        assert alice.get("/api/v1/member/checkins/calendar").json["makeup"]["cards"] == 2
    assert entries(app, alice.member_id, "task") == [10, 10]
    assert entries(app, alice.member_id, "task", account="growth") == [2, 2]


def test_claiming_an_unknown_or_unfinished_task_is_refused_and_writes_nothing(app, world):
    task = create_task(world, kind="purchases", target=2)
    alice = world.member("alice")
    bought(world.staff(), alice.member_id, 10_00)
    before = snapshot(app)
    unknown = claim(alice, 999_999)
    assert (unknown.status_code, error_code(unknown)) == (404, "TASK_NOT_FOUND")
    unfinished = claim(alice, task["id"])
    assert (unfinished.status_code, error_code(unfinished)) == (409, "TASK_NOT_COMPLETED")
    assert unfinished.json["error"]["details"] == {"progress": 1, "target": 2}
    assert snapshot(app) == before


def test_an_auto_pay_task_pays_on_completion_once_without_a_claim(app, world):
    task = create_task(world, kind="purchases", target=2, auto_pay=True, reward_points=30)
    alice = world.member("alice")
    clerk = world.staff()
    for _ in range(3):
        bought(clerk, alice.member_id, 10_00)
    assert entries(app, alice.member_id, "task") == [30]
    assert progress(alice, task["id"]) == (2, "claimed")
    assert error_code(claim(alice, task["id"])) == "TASK_ALREADY_CLAIMED"


def test_twenty_concurrent_claims_pay_one_reward(app, world):
    task = create_task(world, kind="purchases", reward_points=10)
    alice = world.member("alice")
    bought(world.staff(), alice.member_id, 10_00)
    results = run_in_threads(20, lambda i: claim(alice, task["id"]).status_code)
    assert Counter(results) == {201: 1, 409: 19}
    assert count(app, TaskClaim, task_id=task["id"]) == 1
    assert entries(app, alice.member_id, "task") == [10]


# --- periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(("recurrence", "day", "period"), [
    ("once", date(2026, 3, 2), "once"),
    ("daily", date(2026, 3, 2), "2026-03-02"),
    ("weekly", date(2026, 3, 8), "2026-W10"),  # a Sunday ends ISO week 10
    ("weekly", date(2026, 3, 9), "2026-W11"),
    ("weekly", date(2027, 1, 1), "2026-W53"),  # ISO weeks belong to the year of their Thursday
    ("monthly", date(2026, 3, 31), "2026-03"),
])
def test_periods_are_named_by_business_date(recurrence, day, period):
    assert period_of(recurrence, day) == period


def test_each_task_says_where_to_do_it_the_operators_page_or_its_kinds(app, world):
    admin = operator(app)
    checkin = create_task(world, kind="checkin_streak", target=3)
    invite = create_task(world, kind="invite_friends")
    mall = create_task(world, kind="mall_redeem", page_path="/packageA/pages/mall/index?tab=hot")
    assert (checkin["page_path"], invite["page_path"], mall["page_path"]) == (
        "pages/checkin/index", app.config["INVITE_PAGE"], "packageA/pages/mall/index?tab=hot")
    alice = world.member("alice")
    assert member_task(alice, mall["id"])["page_path"] == "packageA/pages/mall/index?tab=hot"
    moved = admin.patch(f"{TASKS}/{checkin['id']}", json={"page_path": "pages/sign/index"})
    assert (moved.status_code, moved.json["page_path"]) == (200, "pages/sign/index"), moved.json
    assert member_task(alice, checkin["id"])["page_path"] == "pages/sign/index"
    reset = admin.patch(f"{TASKS}/{checkin['id']}", json={"page_path": None})
    assert reset.json["page_path"] == member_task(alice, checkin["id"])["page_path"] == "pages/checkin/index"


@pytest.mark.parametrize(("recurrence", "ends_at"), [
    ("daily", "2026-12-31T16:00:00+00:00"),  # 1 January 00:00 in Shanghai
    ("weekly", "2027-01-03T16:00:00+00:00"),  # Thursday 31 December → Monday 4 January
    ("monthly", "2026-12-31T16:00:00+00:00"),
    ("once", None),
])
def test_a_periodic_task_says_when_its_period_ends_in_the_business_zone(app, world, recurrence, ends_at):
    task = create_task(world, kind="purchases", recurrence=recurrence)
    with time_machine.travel(local("2026-12-31 23:59:59"), tick=False):
        shown = member_task(world.member("alice"), task["id"])["period_ends_at"]
    assert (shown and datetime.fromisoformat(shown)) == (ends_at and datetime.fromisoformat(ends_at))


def test_a_weekly_task_turns_over_at_monday_midnight_in_shanghai(app, world):
    task = create_task(world, kind="purchases", recurrence="weekly")
    with time_machine.travel(local("2026-03-08 23:59:59"), tick=False) as clock:  # Sunday, 15:59:59 UTC
        alice = world.member("alice")
        bought(world.staff(), alice.member_id, 10_00)
        assert member_task(alice, task["id"])["period"] == "2026-W10"
        clock.move_to(local("2026-03-09 00:00:01"))  # Monday, still Sunday in UTC
        assert (member_task(alice, task["id"])["period"], progress(alice, task["id"])) == (
            "2026-W11", (0, "in_progress"))


# --- numbers ---------------------------------------------------------------------------


def test_operators_see_each_tasks_numbers(app, world):
    task = create_task(world, title="消费两次", kind="purchases", target=2, reward_points=20, reward_growth=5)
    alice, bob = world.member("alice"), world.member("bob")
    clerk = world.staff()
    for member in (alice, alice, bob):
        bought(clerk, member.member_id, 10_00)
    assert claim(alice, task["id"]).status_code == 201
    numbers = operator(app).get(f"{TASKS}/numbers").json
    assert numbers == {"items": [{"task_id": task["id"], "title": "消费两次", "kind": "purchases",
                                  "recurrence": "once", "started": 2, "completed": 1, "rewarded": 1,
                                  "points_paid": 20, "growth_paid": 5, "makeup_cards_paid": 0}],
                       "next_cursor": None}
    assert count(app, Task) == 1
