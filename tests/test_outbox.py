"""The outbox dispatcher, message rules and the subscription quota API."""
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from app.batches import run_batches
from app.clock import now
from app.extensions import db
from app.messaging import outbox
from app.messaging.models import PENDING, SENDING, UNCONFIRMED, Message, OutboxEvent
from app.messaging.service import record_event
from app.tasks.jobs import DISPATCH_QUEUED_KEY, dispatch_outbox
from tests.helpers import run_in_threads, statements_run
from tests.jobs_helpers import (
    SEND_PATH,
    TEMPLATE,
    delivered,
    expiring_event,
    messages,
    new_member,
    pending_events,
    points_rule,
    queue_of,
    remaining,
    run_worker,
)

ADMIN = "/api/v1/admin"


def queued_functions(app) -> list[str]:
    return [job.func_name for job in queue_of(app).get_jobs()]


def queued_dispatches(app) -> int:
    return queued_functions(app).count("app.tasks.jobs.dispatch_outbox")


def test_a_committed_event_is_dispatched_after_commit_and_sent_by_the_worker(app, world, ctx, fake_wechat):
    points_rule()
    member_id = new_member("alice", accepted=1)
    db.session.commit()
    expiring_event(member_id, points=120, expires_on="2026-12-31")
    assert queued_functions(app) == []  # nothing before the commit

    db.session.commit()
    assert queued_functions(app) == ["app.tasks.jobs.dispatch_outbox"]
    run_worker(app)

    (message,) = messages()
    assert (message.status, message.attempts, message.error_code) == ("sent", 1, None)
    (sent,) = delivered(fake_wechat)
    assert sent == {"touser": "fake-openid-alice", "template_id": TEMPLATE, "page": "pages/points/index",
                    "data": {"thing1": {"value": "120 积分将于 2026-12-31…"}, "date2": {"value": "2026年12月31日"},
                             "number3": {"value": "120"}}}
    assert remaining(member_id) == 0


def test_a_rolled_back_event_is_never_sent(app, world, ctx, fake_wechat):
    points_rule()
    member_id = new_member("alice", accepted=1)
    db.session.commit()
    expiring_event(member_id)
    db.session.flush()
    db.session.rollback()

    assert queued_functions(app) == []
    dispatch_outbox()
    run_worker(app)
    assert messages() == [] and fake_wechat.calls(SEND_PATH) == []
    assert remaining(member_id) == 1


def test_an_event_without_an_enabled_rule_is_dispatched_without_a_message(app, world, ctx, fake_wechat):
    points_rule()
    member_id = new_member("alice", accepted=1)
    points_rule(enabled=False)
    expiring_event(member_id)
    record_event("order_shipped", member_id, {"order_id": 1})  # no rule at all
    db.session.commit()

    run_worker(app)
    assert pending_events() == 0
    assert messages() == [] and fake_wechat.calls(SEND_PATH) == []


def test_commits_with_events_queue_one_dispatch_until_it_starts(app, world, ctx):
    points_rule()
    member_id = new_member("alice")
    for _ in range(3):
        expiring_event(member_id)
        db.session.commit()
    assert queued_functions(app) == ["app.tasks.jobs.dispatch_outbox"]

    queue_of(app).connection.delete(DISPATCH_QUEUED_KEY)  # what a starting dispatch job does
    expiring_event(member_id)
    db.session.commit()
    assert queued_functions(app) == ["app.tasks.jobs.dispatch_outbox"] * 2


def test_a_process_nudges_once_per_interval_and_the_scheduled_dispatch_takes_what_it_left(app, world, ctx,
                                                                                           monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_NUDGE_INTERVAL", 0.5)
    app.extensions.pop("outbox_nudged_at", None)
    points_rule()
    member_id = new_member("alice")
    expiring_event(member_id)
    db.session.commit()
    assert queued_dispatches(app) == 1

    dispatch_outbox()  # a dispatch runs (clearing its flag) and takes that event
    assert pending_events() == 0
    expiring_event(member_id)
    db.session.commit()  # within the interval: no second nudge, the event is left pending
    assert queued_dispatches(app) == 1
    assert pending_events() == 1
    time.sleep(0.6)
    expiring_event(member_id)
    db.session.commit()  # the next commit after the interval nudges again
    assert queued_dispatches(app) == 2

    dispatch_outbox()  # that dispatch (or the scheduled one) takes what the first left behind
    assert pending_events() == 0


def test_a_replayed_event_makes_no_second_message(app, world, ctx, fake_wechat):
    """The unique key (event, member, template): dispatching an event again adds nothing."""
    points_rule()
    member_id = new_member("alice", accepted=2)
    event_id = expiring_event(member_id)
    db.session.commit()
    run_worker(app)
    db.session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(dispatched_at=None))
    db.session.commit()

    run_worker(app)
    dispatch_outbox()
    run_worker(app)
    assert [m.status for m in messages()] == ["sent"]
    assert len(delivered(fake_wechat)) == 1 and remaining(member_id) == 1


def test_two_dispatchers_at_once_dispatch_each_event_once(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_BATCH", 40)
    with app.app_context():
        points_rule()
        member_ids = [new_member(f"m{i}") for i in range(30)]
        for i in range(600):
            expiring_event(member_ids[i % 30], points=i)
        db.session.commit()
    enqueued = [[], []]
    lock = threading.Lock()

    def dispatch(i):
        def send(ids):
            with lock:
                enqueued[i].extend(ids)

        with app.app_context():
            return run_batches(outbox.dispatch_pending(send))["events"]

    dispatched = run_in_threads(2, dispatch)

    assert sum(dispatched) == 600, dispatched
    assert not set(enqueued[0]) & set(enqueued[1])
    with app.app_context():
        assert pending_events() == 0
        ids = db.session.execute(select(Message.id)).scalars().all()
        assert sorted(enqueued[0] + enqueued[1]) == sorted(ids) and len(ids) == 600
        per_event = db.session.execute(select(func.count(Message.id)).group_by(Message.event_id)).scalars().all()
        assert set(per_event) == {1}


def test_the_sweep_requeues_idle_messages_and_gives_up_on_stale_claims(app, world, ctx):
    """A message whose job was lost is enqueued again; a claim past its lease is unconfirmed, never re-sent."""
    points_rule()
    member_id = new_member("alice", accepted=2)
    expiring_event(member_id)
    expiring_event(member_id)
    db.session.flush()
    run_batches(outbox.dispatch_pending(lambda ids: None))  # the enqueue "got lost"
    lost_message, stuck_message = messages()
    db.session.execute(update(Message).where(Message.id == stuck_message.id)
                       .values(status=SENDING, claimed_by="dead-job", claimed_at=now()))
    db.session.commit()
    assert run_batches(outbox.dispatch_pending(lambda ids: None))["requeued"] == 0

    requeued = []
    with time_machine.travel(now() + timedelta(seconds=app.config["MESSAGE_REQUEUE_AFTER"] + 1)):
        counts = run_batches(outbox.dispatch_pending(requeued.extend))
    assert requeued == [lost_message.id]
    assert counts == {"events": 0, "messages": 0, "requeued": 1, "unconfirmed": 1}
    statuses = {m.id: (m.status, m.error_code) for m in messages()}
    assert statuses == {lost_message.id: (PENDING, None), stuck_message.id: (UNCONFIRMED, "OUTCOME_UNKNOWN")}


def test_the_sweep_works_in_bounded_batches_until_none_is_left(app, world, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_BATCH", 2)
    points_rule()
    member_id = new_member("alice", accepted=8)
    for _ in range(8):
        expiring_event(member_id)
    db.session.commit()
    run_batches(outbox.dispatch_pending(lambda ids: None))  # every enqueue "got lost"
    stuck = [message.id for message in messages()[:3]]
    db.session.execute(update(Message).where(Message.id.in_(stuck))
                       .values(status=SENDING, claimed_by="dead-job", claimed_at=now()))
    db.session.commit()

    requeued = []
    with time_machine.travel(now() + timedelta(seconds=app.config["MESSAGE_REQUEUE_AFTER"] + 1)):
        with statements_run("UPDATE messages") as updates:
            counts = run_batches(outbox.dispatch_pending(requeued.extend))
    assert counts == {"events": 0, "messages": 0, "requeued": 5, "unconfirmed": 3}
    assert sorted(requeued) == sorted(message.id for message in messages() if message.id not in stuck)
    assert len(updates) == 3 + 4  # stale claims: 2, 1, none left; idle messages: 2, 2, 1, none left


def test_operators_set_rules_and_members_report_subscriptions(app, world, fake_wechat):
    admin = world.admin()
    rule = {"template_id": TEMPLATE, "page": "pages/points/index", "fields": {"thing1": "{points} 积分即将过期"}}
    reply = admin.request("PUT", f"{ADMIN}/message-rules/points_expiring", json=rule)
    assert reply.status_code == 200, reply.json
    assert reply.json["fields"] == rule["fields"] and reply.json["updated_by"].startswith("admin:")
    assert [r["event_kind"] for r in admin.get(f"{ADMIN}/message-rules").json["items"]] == ["points_expiring"]

    member = world.member("alice")
    assert member.get("/api/v1/member/subscriptions").json == {"items": [
        {"template_id": TEMPLATE, "event_kinds": ["points_expiring"], "long_term": False, "remaining": 0}],
        "next_cursor": None}
    report = {"errMsg": "requestSubscribeMessage:ok", TEMPLATE: "accept"}
    first = member.post("/api/v1/member/subscriptions", json=report, headers={"Idempotency-Key": "k1"})
    replay = member.post("/api/v1/member/subscriptions", json=report, headers={"Idempotency-Key": "k1"})
    assert first.json["items"][0]["remaining"] == replay.json["items"][0]["remaining"] == 1
    second = member.post("/api/v1/member/subscriptions", json=report)
    rejected = member.post("/api/v1/member/subscriptions", json={**report, TEMPLATE: "reject"})
    # a refusal keeps earlier ones
    assert second.json["items"][0]["remaining"] == rejected.json["items"][0]["remaining"] == 2


@pytest.mark.parametrize("kind, body, status, code", [
    ("points_expiring", {"template_id": "t", "fields": {"title": "x"}}, 422, "VALIDATION_ERROR"),
    ("points_expiring", {"template_id": "", "fields": {"thing1": "x"}}, 422, "VALIDATION_ERROR"),
    ("points_expiring", {"template_id": "t", "fields": {}}, 422, "VALIDATION_ERROR"),
    ("no_such_event", {"template_id": "t", "fields": {"thing1": "x"}}, 404, "MESSAGE_RULE_NOT_FOUND"),
])
def test_a_bad_rule_is_refused_and_writes_nothing(app, world, kind, body, status, code):
    reply = world.admin().request("PUT", f"{ADMIN}/message-rules/{kind}", json=body)
    assert (reply.status_code, reply.json["error"]["code"]) == (status, code)
    assert world.admin().get(f"{ADMIN}/message-rules").json["items"] == []


def test_a_report_naming_a_template_no_rule_sends_is_refused(app, world):
    with app.app_context():
        points_rule()
        db.session.commit()
    member = world.member("alice")
    reply = member.post("/api/v1/member/subscriptions",
                        json={"errMsg": "requestSubscribeMessage:ok", TEMPLATE: "accept", "other": "accept"})
    assert (reply.status_code, reply.json["error"]["code"]) == (422, "SUBSCRIBE_TEMPLATE_UNKNOWN")
    assert reply.json["error"]["details"] == {"template_ids": ["other"]}
    assert member.get("/api/v1/member/subscriptions").json["items"][0]["remaining"] == 0
    bad = member.post("/api/v1/member/subscriptions", json={"errMsg": "requestSubscribeMessage:ok", TEMPLATE: "maybe"})
    assert bad.status_code == 422 and TEMPLATE in bad.json["error"]["details"]["fields"]


def test_only_operators_read_rules_and_the_message_log(app, world):
    member, staff = world.member("alice"), world.staff()
    for caller in (member, staff):
        assert caller.get(f"{ADMIN}/message-rules").status_code == 403
        assert caller.get(f"{ADMIN}/messages").status_code == 403
    assert world.admin().get("/api/v1/member/subscriptions").status_code == 403


def test_the_message_log_lists_by_status_and_member(app, world, fake_wechat):
    with app.app_context():
        points_rule()
        alice, bob = new_member("alice", accepted=1), new_member("bob")
        expiring_event(alice)
        expiring_event(bob)
        db.session.commit()
        run_worker(app)
    admin = world.admin()
    everything = admin.get(f"{ADMIN}/messages").json["items"]
    assert [(m["member_id"], m["status"], m["error_code"]) for m in everything] == [
        (bob, "skipped", "NO_QUOTA"), (alice, "sent", None)]
    only_bob = admin.get(f"{ADMIN}/messages", query_string={"member_id": bob}).json["items"]
    assert [m["member_id"] for m in only_bob] == [bob]
    sent = admin.get(f"{ADMIN}/messages", query_string={"status": "sent", "limit": 1}).json
    assert [m["member_id"] for m in sent["items"]] == [alice] and sent["next_cursor"] is None
