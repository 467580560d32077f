"""The Idempotency-Key contract of every state-changing request (app/api/idempotency.py)."""
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, text

from app.clock import now
from app.extensions import db
from app.idempotency.models import IdempotencyRecord
from app.member_row import Member
from app.points.models import LedgerEntry
from app.tasks import jobs
from app.tasks.models import JobRun
from tests.api_steps import error_code
from tests.helpers import Caller, assert_ledger_consistent, in_background, run_in_threads, statements_run, wait_until
from tests.jobs_helpers import queue_of, run_worker

KEY = "3f0c2a9e-key"
REPLAYED = "Idempotent-Replayed"


def adjust(admin, member_id: int, delta: int, key: str | None = KEY, reason: str = "idempotency test"):
    headers = {"Idempotency-Key": key} if key else {}
    return admin.post(f"/api/v1/admin/members/{member_id}/points-adjustments",
                      json={"delta": delta, "reason": reason}, headers=headers)


def login(app, code: str, key: str = KEY):
    return Caller(app).post("/api/v1/auth/member/login", json={"code": code}, headers={"Idempotency-Key": key})


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def adjustments(app, member_id: int) -> int:
    return count(app, LedgerEntry, LedgerEntry.member_id == member_id, LedgerEntry.kind == "adjust")


@pytest.fixture
def admin(world):
    return world.admin()


@pytest.fixture
def member_id(world):
    return world.member("alice").member_id


def test_a_replay_returns_the_stored_reply_and_writes_nothing(app, admin, member_id):
    """The same request with the same key again: the first reply (status, body) comes back,
    marked Idempotent-Replayed, and no second adjustment is written."""
    first = adjust(admin, member_id, 30)
    assert first.status_code == 201
    assert REPLAYED not in first.headers

    replay = adjust(admin, member_id, 30)

    assert replay.status_code == 201
    assert replay.headers[REPLAYED] == "true"
    assert replay.json == first.json
    assert adjustments(app, member_id) == 1
    assert count(app, IdempotencyRecord) == 1
    with app.app_context():
        assert assert_ledger_consistent(member_id)["balance"] == 30


def test_without_a_key_each_request_is_a_new_adjustment(app, admin, member_id):
    """The replay protection above comes from the key: without one, two posts are two entries."""
    assert adjust(admin, member_id, 30, key=None).status_code == 201
    assert adjust(admin, member_id, 30, key=None).status_code == 201
    assert adjustments(app, member_id) == 2


def test_the_same_key_with_another_body_or_path_is_refused(app, admin, member_id, world):
    """A key names one request: another body or another path with it gets 422
    IDEMPOTENCY_KEY_REUSED and writes nothing."""
    other_member = world.member("bob").member_id
    assert adjust(admin, member_id, 30).status_code == 201

    other_body = adjust(admin, member_id, 31)
    other_path = adjust(admin, other_member, 30)

    for reply in (other_body, other_path):
        assert (reply.status_code, error_code(reply)) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert adjustments(app, member_id) == 1
    assert adjustments(app, other_member) == 0


def test_a_key_longer_than_128_characters_is_refused(app, admin, member_id):
    reply = adjust(admin, member_id, 30, key="k" * 129)
    assert (reply.status_code, error_code(reply)) == (400, "IDEMPOTENCY_KEY_INVALID")
    assert adjustments(app, member_id) == 0


def test_a_failed_request_releases_its_key_for_a_corrected_retry(app, admin, member_id):
    """A refused request writes nothing, not even its key: a corrected request (another
    body) may run under that key, and so may the same request once it can succeed."""
    refused = adjust(admin, member_id, -50, key="debit-key")
    assert (refused.status_code, error_code(refused)) == (409, "POINTS_INSUFFICIENT")
    invalid = adjust(admin, member_id, 0, key="credit-key")
    assert (invalid.status_code, error_code(invalid)) == (422, "VALIDATION_ERROR")
    assert count(app, IdempotencyRecord) == 0

    corrected = adjust(admin, member_id, 80, key="credit-key")
    assert (corrected.status_code, REPLAYED in corrected.headers) == (201, False)
    retried = adjust(admin, member_id, -50, key="debit-key")
    assert (retried.status_code, REPLAYED in retried.headers) == (201, False)  # the refusal is not replayed

    assert adjustments(app, member_id) == 2
    with app.app_context():
        assert assert_ledger_consistent(member_id)["balance"] == 30


def test_keys_are_scoped_per_caller(app, world):
    """Two members (and staff, and an operator) may use the same key: each gets their own
    request done and their own reply replayed."""
    alice, bob = world.member("alice"), world.member("bob")

    def rename(member, nickname):
        return member.patch("/api/v1/member/profile", json={"nickname": nickname}, headers={"Idempotency-Key": KEY})

    assert rename(alice, "Alice").json["nickname"] == "Alice"
    assert rename(bob, "Bob").json["nickname"] == "Bob"
    assert adjust(world.admin(), bob.member_id, 5).status_code == 201
    replays = rename(alice, "Alice"), rename(bob, "Bob")

    assert [(reply.headers[REPLAYED], reply.json["nickname"]) for reply in replays] == [
        ("true", "Alice"), ("true", "Bob")]
    with app.app_context():
        names = dict(db.session.execute(select(Member.id, Member.nickname)).all())
    assert names == {alice.member_id: "Alice", bob.member_id: "Bob"}


@pytest.fixture
def row_lock_of(app):
    """Hold a member's row lock from a connection of our own, as another writer of the member
    would (PostgreSQL), until the test releases it."""
    holders = []

    def hold(member_id: int):
        with app.app_context():
            holder = db.engine.connect()
        holder.execute(text("SELECT id FROM members WHERE id = :id FOR UPDATE"), {"id": member_id})
        holders.append(holder)
        return holder.rollback

    yield hold
    for holder in holders:
        holder.close()


def a_backend_waits_for_a_lock(app) -> bool:
    with app.app_context():
        waiting = db.session.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND wait_event_type = 'Lock'")).scalar_one()
        db.session.commit()
    return waiting > 0


def test_a_twin_of_a_members_request_in_flight_gets_409_at_once(app, world, is_postgres, row_lock_of):
    """The key is claimed before the member's row is locked: while the first request, its key
    claimed, waits for that lock (held here by another connection), its twin is refused at
    once with 409 IDEMPOTENCY_IN_FLIGHT instead of queueing behind it; afterwards the
    first request's reply is replayed."""
    if not is_postgres:
        pytest.skip("SQLite has no row locks: a twin waits for the one writer, then replays")
    alice = world.member("alice")

    def rename():
        return alice.patch("/api/v1/member/profile", json={"nickname": "Alice"}, headers={"Idempotency-Key": KEY})

    release = row_lock_of(alice.member_id)
    try:
        first = in_background(rename)
        wait_until(lambda: a_backend_waits_for_a_lock(app), "the first request to wait for the row lock")
        twin = in_background(rename).result(timeout=5)  # before the fix: waited for the row lock
        assert (twin.status_code, error_code(twin)) == (409, "IDEMPOTENCY_IN_FLIGHT")
        assert not first.done()
    finally:
        release()

    assert (first.result().status_code, REPLAYED in first.result().headers) == (200, False)
    replay = rename()
    assert (replay.status_code, replay.headers[REPLAYED], replay.json) == (200, "true", first.result().json)


def test_a_login_stores_no_reply_and_ignores_an_idempotency_key(app, world):
    """A login's reply carries a token, which is not written to the idempotency table; the key
    is ignored (a login is idempotent by itself: the same member for the same openid)."""
    first, second = login(app, "alice"), login(app, "alice")

    assert [(reply.status_code, REPLAYED in reply.headers, reply.json["created"]) for reply in (first, second)] == [
        (200, False, True), (200, False, False)]
    assert first.json["member_id"] == second.json["member_id"]
    assert count(app, IdempotencyRecord) == 0


def test_100_concurrent_replays_of_one_key_make_exactly_one_entry(app, admin, member_id):
    """One adjustment sent 100 times at once under one key: one entry; every answer is that
    adjustment's reply or 409 IDEMPOTENCY_IN_FLIGHT."""
    replies = run_in_threads(100, lambda i: adjust(admin, member_id, 10))

    successes = [reply for reply in replies if reply.status_code == 201]
    assert len({str(reply.json) for reply in successes}) == 1
    assert sum(REPLAYED not in reply.headers for reply in successes) == 1
    assert {(reply.status_code, error_code(reply)) for reply in replies if reply.status_code != 201} <= {
        (409, "IDEMPOTENCY_IN_FLIGHT")}
    assert adjustments(app, member_id) == 1
    with app.app_context():
        assert assert_ledger_consistent(member_id)["balance"] == 10


def test_concurrent_retries_of_a_failing_request_fail_cleanly_and_leave_no_claim(app, admin, member_id):
    """50 overdrawing debits under one key at once: each answer is the refusal or in-flight,
    never a 500; nothing is written and no claim stays (a failure takes its claim with it)."""
    replies = run_in_threads(50, lambda i: adjust(admin, member_id, -10))

    assert {(reply.status_code, error_code(reply)) for reply in replies} <= {
        (409, "POINTS_INSUFFICIENT"), (409, "IDEMPOTENCY_IN_FLIGHT")}
    assert any(error_code(reply) == "POINTS_INSUFFICIENT" for reply in replies)
    assert adjustments(app, member_id) == 0
    assert count(app, IdempotencyRecord) == 0


# --- retention -------------------------------------------------------------------------


def stored_records(started: dict[str, datetime]) -> None:
    """Completed records under the given keys, claimed at the given times."""
    for key, started_at in started.items():
        db.session.add(IdempotencyRecord(scope="admin:1", key=key, fingerprint="0" * 64, status_code=201, body={},
                                         started_at=started_at))
    db.session.commit()


def test_records_past_their_retention_are_purged_in_batches_by_the_job(app, world, ctx, monkeypatch):
    """The job deletes what is older than IDEMPOTENCY_RETENTION_HOURS, IDEMPOTENCY_PURGE_BATCH
    records per statement, keeps the rest and records its count in job_runs."""
    monkeypatch.setitem(app.config, "IDEMPOTENCY_PURGE_BATCH", 2)
    retention = timedelta(hours=app.config["IDEMPOTENCY_RETENTION_HOURS"])
    assert retention == timedelta(hours=24)  # the documented default
    current = now()
    stored_records({f"old-{n}": current - retention - timedelta(minutes=n + 1) for n in range(5)}
                   | {"young": current - retention + timedelta(minutes=1)})

    with statements_run("DELETE FROM idempotency_records") as deletes:
        counts = jobs.purge_idempotency_records()

    assert counts == {"purged": 5}
    assert len(deletes) == 3  # 2 + 2 + 1
    assert db.session.execute(select(IdempotencyRecord.key)).scalars().all() == ["young"]
    assert [(run.status, run.counts) for run in db.session.execute(
        select(JobRun).where(JobRun.job == "purge_idempotency_records")).scalars()] == [("ok", {"purged": 5})]


def test_a_real_worker_purges_a_key_past_its_retention_which_then_names_a_new_request(app, world, member_id):
    """Run by an RQ worker (burst mode): the key claimed 25 hours ago is free again, and is
    a new adjustment; the key claimed now is still replayed."""
    with time_machine.travel((now() - timedelta(hours=25)).timestamp()):
        assert adjust(world.admin(), member_id, 30).status_code == 201
    admin = world.admin()
    assert adjust(admin, member_id, 30, key="young-key").status_code == 201

    queue_of(app).enqueue(jobs.purge_idempotency_records)
    run_worker(app)

    again, young = adjust(admin, member_id, 30), adjust(admin, member_id, 30, key="young-key")
    assert (again.status_code, REPLAYED in again.headers) == (201, False)
    assert (young.status_code, young.headers[REPLAYED]) == (201, "true")
    assert adjustments(app, member_id) == 3
