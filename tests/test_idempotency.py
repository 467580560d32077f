"""The Idempotency-Key contract of every state-changing request (app/api/idempotency.py)."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.api.idempotency import IdempotencyRecord
from app.extensions import db
from app.members.models import Member
from app.points.models import LedgerEntry
from tests.api_steps import error_code
from tests.helpers import Caller, assert_ledger_consistent, run_in_threads

KEY = "3f0c2a9e-key"
REPLAYED = "Idempotent-Replayed"
CODE2SESSION = "/sns/jscode2session"


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


def in_background(work):
    """Start work() on a thread; its future."""
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(work)
    executor.shutdown(wait=False)
    return future


def wait_until_wechat_called(fake_wechat, path: str = CODE2SESSION, timeout: float = 10):
    """Until the fake WeChat got the call (then the request holding it has claimed its key)."""
    deadline = time.monotonic() + timeout
    while not fake_wechat.calls(path):
        assert time.monotonic() < deadline, f"no call to {path}"
        time.sleep(0.02)


@pytest.fixture
def slow_wechat_login(fake_wechat):
    """WeChat answers code2session slowly, so a login stays in flight while we try its key."""
    fake_wechat.control(delay={"path": CODE2SESSION, "seconds": 2})
    return fake_wechat


def test_a_key_still_in_flight_gets_409_and_then_the_finished_reply(app, world, slow_wechat_login, is_postgres):
    """While the first login waits for WeChat, the same request under its key is refused at
    once with 409 IDEMPOTENCY_IN_FLIGHT (SQLite, one writer at a time, makes it wait for the
    first and replay instead); WeChat is called once; afterwards the reply is replayed."""
    first = in_background(lambda: login(app, "slow"))
    wait_until_wechat_called(slow_wechat_login)

    twin = login(app, "slow")

    assert first.result().status_code == 200
    if is_postgres:
        assert (twin.status_code, error_code(twin)) == (409, "IDEMPOTENCY_IN_FLIGHT")
    else:
        assert (twin.status_code, twin.headers[REPLAYED], twin.json) == (200, "true", first.result().json)
    assert len(slow_wechat_login.calls(CODE2SESSION)) == 1
    replay = login(app, "slow")
    assert (replay.status_code, replay.headers[REPLAYED], replay.json) == (200, "true", first.result().json)
    assert count(app, Member, Member.openid == "fake-openid-slow") == 1


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
