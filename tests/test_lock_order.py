"""The lock order (app/db_helpers.py): a path that breaks it fails at once; and on real
threads against PostgreSQL the pairs of writers that could deadlock all complete, with no
deadlock error and no 500, and the ledger agrees.

The threads run on PostgreSQL only: SQLite serializes every writer (BEGIN IMMEDIATE), so
no order of row locks can deadlock there.
"""
import threading
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import insert, text

from app.batches import run_batches
from app.clock import now
from app.db_helpers import lock, lock_all
from app.errors import AppError
from app.extensions import db
from app.member_row import Member, lock_member, lock_members
from app.members import service as members
from app.members.tier_review import review_due
from app.points import service as ledger
from app.purchases.models import Purchase
from tests.api_steps import bought, buy, refund
from tests.engagement_steps import referral_rules
from tests.helpers import assert_ledger_consistent, run_in_threads
from tests.test_referral import PHONE, code_of, invited

REACHED_GOLD = datetime(2025, 3, 10, 14, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # reviewed on 2026-03-10


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("row-lock order: SQLite serializes all writers, nothing to deadlock")


def test_a_lock_that_comes_before_one_held_is_refused(app, world, ctx):
    alice, bob = (members.get_or_create(f"openid-{name}", None)[0].id for name in ("alice", "bob"))
    db.session.commit()
    assert [member.id for member in lock_all(Member, [bob, alice])] == [alice, bob]  # together: in order
    db.session.commit()
    lock(Member, bob)
    assert lock(Member, bob).id == bob  # held already: fine
    with pytest.raises(RuntimeError, match="lock order broken"):
        lock(Member, alice)
    db.session.rollback()
    purchase = bought(world.staff(), alice, 10_00)["id"]
    lock(Purchase, purchase)
    with pytest.raises(RuntimeError, match="lock order broken"):
        lock(Member, alice)  # members before purchases


def test_lock_members_locks_several_in_ascending_id_and_lock_member_refuses_a_missing_one(app, world, ctx):
    alice, bob, carol = (members.get_or_create(f"openid-{name}", None)[0].id for name in ("alice", "bob", "carol"))
    db.session.commit()
    assert [member.id for member in lock_members([carol, bob, carol + 1000])] == [bob, carol]  # one gone
    assert lock_member(carol).id == carol  # held already: fine
    with pytest.raises(RuntimeError, match="lock order broken"):
        lock_members([alice, bob])  # alice comes before the members held
    db.session.rollback()
    with pytest.raises(AppError) as refused:
        lock_member(carol + 1000)
    assert refused.value.code == "MEMBER_NOT_FOUND"


def test_a_batch_lock_of_members_skips_one_held_elsewhere_instead_of_waiting(app, world, ctx, postgres_only):
    alice, bob, carol = (members.get_or_create(f"openid-{name}", None)[0].id for name in ("alice", "bob", "carol"))
    db.session.commit()
    with db.engine.connect() as holder:
        holder.execute(text("SELECT id FROM members WHERE id = :id FOR UPDATE"), {"id": bob})
        db.session.execute(text("SET LOCAL lock_timeout = '5s'"))  # a wait would fail, not hang
        assert [member.id for member in lock_members([carol, bob, alice], skip_locked=True)] == [alice, carol]
        db.session.rollback()
        holder.rollback()


def reach_gold(app, member_id: int) -> None:
    """The member reached 金卡 on REACHED_GOLD, so today's tier review is due for them."""
    with app.app_context(), time_machine.travel(REACHED_GOLD, tick=False):
        members.change_growth(member_id, 5200, ledger.Posting(kind="test", key=f"gold:{member_id}"))
        db.session.commit()


def lock_waits() -> int:
    """Backends of this database waiting for a lock now."""
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                       " AND wait_event_type = 'Lock'")).scalar_one()


def wait_for_lock_waits(count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while lock_waits() < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_tier_review_batch_and_an_invitees_qualifying_purchase_both_complete(app, world, postgres_only):
    """The purchase locks the invitee and, to pay the inviter, needs the inviter; the review
    batch holds both members. Before the lock order, the purchase held the invitee and the
    batch the inviter, each waiting for the other: PostgreSQL aborted one of them."""
    referral_rules(app, qualify_on="first_purchase")
    inviter = world.member("alice")
    invitee = invited(app, "bob", code_of(inviter))
    for member in (inviter, invitee):
        reach_gold(app, member.member_id)
    clerk = world.staff("clerk-a")
    with app.app_context():
        # A transaction holding the order number makes the purchase wait after its member locks,
        # until the review batch has started and waits in turn.
        holder = db.engine.connect()
        holder.execute(insert(Purchase), {
            "store_id": world.stores["A"], "member_id": invitee.member_id, "staff_id": world.staff_ids["clerk-a"],
            "order_no": "O-HELD", "amount_fen": 1, "refunded_fen": 0, "points_earned": 0, "growth_earned": 0,
            "created_at": now()})

        def work(i):
            if i == 0:
                return buy(clerk, invitee.member_id, 100_00, order_no="O-HELD")
            with app.app_context():
                wait_for_lock_waits(1)  # the purchase waits for the order number
                if i == 1:
                    return run_batches(review_due())
                wait_for_lock_waits(2)  # and the review for a member the purchase holds
                holder.rollback()
                holder.close()

        purchase, review, _ = run_in_threads(3, work)
    assert purchase.status_code == 201, purchase.json
    assert review == {"retained": 0, "downgraded": 2}
    assert [item["state"] for item in inviter.get("/api/v1/member/invitations").json["items"]] == ["rewarded"]
    with app.app_context():
        for member in (inviter, invitee):
            assert_ledger_consistent(member.member_id)


def test_a_member_busy_elsewhere_stalls_neither_the_review_batch_nor_the_members_it_holds(app, world, postgres_only):
    """The batch skips a member another transaction holds and takes it alone later: before,
    it waited for that member while holding the rest of the batch, and their purchases waited too."""
    first, busy = world.member("alice").member_id, world.member("bob").member_id
    for member_id in (first, busy):
        reach_gold(app, member_id)
    clerk = world.staff("clerk-a")
    results = {}

    def in_thread(name, work):
        def run():
            with app.app_context():
                results[name] = work()
        thread = threading.Thread(target=run)
        thread.start()
        return thread

    with app.app_context():
        holder = db.engine.connect()
        holder.execute(text("SELECT id FROM members WHERE id = :id FOR UPDATE"), {"id": busy})
        review = in_thread("review", lambda: run_batches(review_due()))
        wait_for_lock_waits(1)  # the review waits for the busy member
        purchase = in_thread("purchase", lambda: buy(clerk, first, 100_00))
        purchase.join(timeout=10)
        done_while_busy = not purchase.is_alive()
        holder.rollback()
        holder.close()
    review.join()
    purchase.join()
    assert done_while_busy, "the purchase waited for the review batch"
    assert results["purchase"].status_code == 201
    assert results["review"] == {"retained": 0, "downgraded": 2}
    with app.app_context():
        for member_id in (first, busy):
            assert_ledger_consistent(member_id)


def test_refunds_purchases_adjustments_and_the_tier_review_of_one_member_all_complete(app, world, postgres_only):
    """Refunds (member, then purchase) race with new purchases and adjustments of the same
    member (member only) and with the tier review batch that holds the member."""
    member_id = world.member("racer").member_id
    reach_gold(app, member_id)
    clerk, manager, admin = world.staff("clerk-a"), world.staff("manager-a"), world.admin()
    purchases = [bought(clerk, member_id, 100_00)["id"] for _ in range(10)]
    admin.post(f"/api/v1/admin/members/{member_id}/points-adjustments", json={"delta": 1000, "reason": "float"})

    def work(i):
        kind = i % 4
        if kind == 0:
            return refund(manager, purchases[i // 4], 100_00)
        if kind == 1:
            return buy(clerk, member_id, 50_00)
        if kind == 2:
            return admin.post(f"/api/v1/admin/members/{member_id}/points-adjustments",
                              json={"delta": 10 if i % 8 == 2 else -10, "reason": "lock order"})
        with app.app_context():
            return run_batches(review_due())

    results = run_in_threads(40, work)
    replies = [result for result in results if not isinstance(result, dict)]
    assert {reply.status_code for reply in replies} == {201}, [(r.status_code, r.json) for r in replies]
    assert sum(result["downgraded"] for result in results if isinstance(result, dict)) == 1
    with app.app_context():
        assert_ledger_consistent(member_id)


def test_invitees_qualifying_by_phone_while_the_inviter_writes_all_complete(app, world, postgres_only):
    """Each phone binding locks the inviter and the invitee; the inviter's own purchases and
    adjustments lock the inviter alone, the review batch both."""
    referral_rules(app, qualify_on="phone_bound")
    inviter = world.member("alice")
    invitees = [invited(app, f"friend{n}", code_of(inviter)) for n in range(6)]
    for member in (inviter, *invitees):
        reach_gold(app, member.member_id)
    clerk, admin = world.staff("clerk-a"), world.admin()

    def work(i):
        if i < 6:
            return invitees[i].post(PHONE, json={"code": f"phone-1390000000{i}"})
        if i < 12:
            return buy(clerk, inviter.member_id, 20_00, order_no=f"O-{uuid.uuid4().hex[:8]}")
        if i < 18:
            return admin.post(f"/api/v1/admin/members/{inviter.member_id}/points-adjustments",
                              json={"delta": 5, "reason": "lock order"})
        with app.app_context():
            return run_batches(review_due())

    results = run_in_threads(20, work)
    replies = [result for result in results if not isinstance(result, dict)]
    assert {reply.status_code for reply in replies} <= {200, 201}, [(r.status_code, r.json) for r in replies]
    assert sum(result["downgraded"] for result in results if isinstance(result, dict)) == 7
    assert [item["state"] for item in inviter.get("/api/v1/member/invitations").json["items"]] == ["rewarded"] * 6
    with app.app_context():
        for member in (inviter, *invitees):
            assert_ledger_consistent(member.member_id)
