"""What we depend on fails: PostgreSQL refuses connections or ends one mid-request, Redis is
down. The client gets `503 SERVICE_UNAVAILABLE` with Retry-After, never a 500, and a
request refused so wrote nothing, so the same request (same Idempotency-Key) may be sent again."""
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.errors import RETRY_AFTER_SECONDS
from app.extensions import db
from app.mall.models import MallItem
from app.messaging.models import OutboxEvent
from tests.api_routes import snapshot
from tests.helpers import PASSWORD, REDIS_URL, Caller, another_app
from tests.mall_steps import (
    ADMIN,
    MEMBER_API,
    STAFF_API,
    create_item,
    create_template,
    created,
    give_points,
    make_members,
    member_caller,
)
from tests.redis_server import spare_port

ORDERS = f"{MEMBER_API}/mall/orders"


def assert_unavailable(reply) -> None:
    assert (reply.status_code, reply.json["error"]["code"], reply.headers.get("Retry-After")) == (
        503, "SERVICE_UNAVAILABLE", str(RETRY_AFTER_SECONDS)), reply.json


def served_or_unavailable(app, send, served_status: int):
    """The request is served, or refused with a 503 that wrote nothing. Which of the two,
    for a request guarded by a rate limit, is that limit's choice (fail open or closed)."""
    before = snapshot(app)
    reply = send()
    if reply.status_code != served_status:
        assert_unavailable(reply)
        assert snapshot(app) == before
    return reply


def test_with_redis_down_no_request_is_a_500_and_a_commit_that_cannot_nudge_stands(app, world, spare_redis):
    alice, clerk, admin = world.member("alice"), world.staff("clerk-a"), world.admin()
    member_code = alice.get(f"{MEMBER_API}/card/code").json["code"]
    template = create_template(admin)
    coupon = created(admin.post(f"{ADMIN}/coupon-templates/{template['id']}/grants",
                                json={"member_id": alice.member_id, "reason": "测试"}))
    coupon_code = alice.get(f"{MEMBER_API}/coupons/{coupon['id']}").json["code"]
    item = create_item(admin, stock=5)
    give_points(app, alice.member_id, 500)

    with another_app(app, spare_redis.url) as down:
        spare_redis.kill()
        anonymous = Caller(down)
        member, staff, operator = (Caller(down, caller.token) for caller in (alice, clerk, admin))
        for send, served in [
            (lambda: anonymous.post("/api/v1/auth/member/login", json={"code": "carol"}), 200),
            (lambda: anonymous.post("/api/v1/auth/staff/login", json={"username": "clerk-a", "password": PASSWORD}),
             200),
            (lambda: staff.post(f"{STAFF_API}/member-lookups", json={"code": member_code}), 200),
            (lambda: staff.post(f"{STAFF_API}/coupon-previews", json={"code": coupon_code}), 200),
            (lambda: staff.post(f"{STAFF_API}/verifications",
                                json={"code": coupon_code, "order_no": "POS-1", "amount_fen": 150_00}), 201),
        ]:
            served_or_unavailable(app, send, served)
        # the store's code needs WeChat's access token, which every process shares in Redis
        assert_unavailable(operator.get(f"{ADMIN}/stores/{world.stores['A']}/qr.png"))
        # the redemption commits its outbox event; the nudge after the commit fails and is let go
        order = member.post(ORDERS, json={"item_id": item["id"]})
        assert order.status_code == 201, order.json
    with app.app_context():
        event = db.session.execute(select(OutboxEvent).where(OutboxEvent.kind == "mall_redeemed")).scalar_one()
        assert (event.payload["order_id"], event.dispatched_at) == (order.json["id"], None)  # for the next dispatch


def test_a_database_that_refuses_connections_is_a_503(app, world):
    alice = world.member("alice")
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{spare_port()}/membermall"
    with another_app(app, REDIS_URL, SQLALCHEMY_DATABASE_URI=nowhere) as refused:
        member = Caller(refused, alice.token)
        assert_unavailable(member.get(f"{MEMBER_API}/card"))
        assert_unavailable(member.post(f"{MEMBER_API}/checkins", headers={"Idempotency-Key": "day-1"}))
        assert_unavailable(Caller(refused).post("/api/v1/auth/member/login", json={"code": "carol"}))
        assert refused.test_client().get("/readyz").status_code == 503


def test_a_backend_killed_mid_request_is_a_503_that_wrote_nothing_and_the_same_key_succeeds(app, world, is_postgres):
    """The redemption has written its order, debit, outbox event and key claim and waits for
    the item's stock row (held here); its backend is ended then. PostgreSQL drops the open
    transaction with it, the client gets a 503, and its retry with the same key is served once."""
    if not is_postgres:
        pytest.skip("no server to end the connection: SQLite opens a file")
    [member_id] = make_members(app, 1, prefix="killed")
    give_points(app, member_id, 1000)
    member = member_caller(app, member_id)
    item = create_item(world.admin(), stock=5)
    before = snapshot(app)

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(url, autocommit=True) as admin, ThreadPoolExecutor(max_workers=1) as pool:
        with psycopg.connect(url) as holder:  # holds the stock row until it closes, whatever happens
            # NO KEY UPDATE: the order's foreign key to the item may still be checked, the stock not taken
            holder.execute("SELECT stock FROM mall_items WHERE id = %s FOR NO KEY UPDATE", (item["id"],))
            redemption = pool.submit(member.post, ORDERS, json={"item_id": item["id"]},
                                     headers={"Idempotency-Key": "order-1"})
            admin.execute("SELECT pg_terminate_backend(%s)", (waiting_for_the_stock(admin),))
        reply = redemption.result(timeout=30)

    assert_unavailable(reply)
    assert snapshot(app) == before
    retried = member.post(ORDERS, json={"item_id": item["id"]}, headers={"Idempotency-Key": "order-1"})
    assert (retried.status_code, retried.headers.get("Idempotent-Replayed")) == (201, None), retried.json
    with app.app_context():
        assert db.session.get(MallItem, item["id"]).stock == 4


def waiting_for_the_stock(admin) -> int:
    """The backend whose stock update waits for the row's lock."""
    deadline = time.monotonic() + 20
    while True:
        waiting = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND query LIKE 'UPDATE mall_items%'").fetchone()
        if waiting:
            return waiting[0]
        assert time.monotonic() < deadline, "the redemption never waited for the stock row"
        time.sleep(0.02)
