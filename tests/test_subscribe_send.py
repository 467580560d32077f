"""Subscribe messages sent by real RQ workers to the fake WeChat: quota, errors, retries,
and the at-most-once guarantee (app/messaging/delivery.py) through a killed worker."""
import os
import signal
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
from rq.registry import StartedJobRegistry
from sqlalchemy import insert, select

from app.errors import AppError
from app.extensions import db
from app.member_row import Member
from app.members.tiers import entry_tier
from app.messaging.fields import fit, fit_data
from app.messaging.models import Subscription
from app.tasks.inprocess import InProcessScheduler
from app.tasks.jobs import dispatch_outbox, enqueue_sends
from app.wechat import WeChat
from tests.helpers import another_app
from tests.jobs_helpers import (
    SEND_PATH,
    TEMPLATE,
    delivered,
    expiring_event,
    log_of,
    messages,
    new_member,
    points_rule,
    queue_of,
    remaining,
    run_worker,
    wait_for,
    worker_process,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def retry_at_once(app, monkeypatch):
    """Retries without backoff, so a burst worker runs them before it stops."""
    monkeypatch.setitem(app.config, "MESSAGE_RETRY_INTERVALS", "0,0,0")


def send_one(app, code="alice", accepted=1) -> int:
    """A rule, a member with quota and one committed event, dispatched: the member's id."""
    points_rule()
    member_id = new_member(code, accepted=accepted)
    expiring_event(member_id)
    db.session.commit()
    return member_id


# --- values fitted to WeChat's rules ---------------------------------------------------


@pytest.mark.parametrize("key, value, fitted", [
    ("thing1", "一二三四五六七八九十一二三四五六七八九十", "一二三四五六七八九十一二三四五六七八九十"),
    ("thing1", "一二三四五六七八九十一二三四五六七八九十一", "一二三四五六七八九十一二三四五六七八九…"),
    ("thing2", "line one\nline two", "line one line two"),
    ("thing3", "", "-"),
    ("number1", "1,234 分", "1234"),
    ("number2", "9" * 40, "9" * 32),
    ("phrase1", "已过期 soon", "已过期"),
    ("phrase2", "即将过期的积分", "即将过期的"),
    ("date1", "2028-02-29", "2028年2月29日"),
    ("date2", "2026-12-31T16:30:00+00:00", "2027年1月1日"),
    ("time1", "2026-12-31T16:30:00+00:00", "2027年1月1日 00:30"),
    ("time2", "2026-12-31", "2026年12月31日 00:00"),
    ("date3", "明天", "明天"),
    ("amount1", "12.5", "¥12.5"),
    ("amount2", "¥1,288.00 元", "¥1288.00"),
    ("name1", "欧阳一二三四五六七八九", "欧阳一二三四五六七八"),
    ("name2", "Alexander Hamilton Jr. III", "Alexander Hamilton J"),
    ("character_string1", "订单 A-1001", "A-1001"),
    ("letter1", "abc123", "abc"),
])
def test_values_are_fitted_to_their_field_type(key, value, fitted):
    assert fit(key, value, SHANGHAI) == fitted


def test_the_fake_refuses_raw_values_and_accepts_fitted_ones(fake_wechat):
    """The fake checks WeChat's rules independently: unfitted data is 47003, fitted data is delivered."""
    wechat = WeChat("wx-fit-test", "secret", api_base=fake_wechat.base_url, timeout=2)
    fields = {"thing1": "{name}", "phrase2": "{state}", "date3": "{on}", "number4": "{points}"}
    payload = {"name": "感谢您一直以来的支持，您的积分即将过期，请及时使用", "state": "即将过期 soon",
               "on": "2026-12-31", "points": "1,200"}
    raw = {key: {"value": text.format(**payload)} for key, text in fields.items()}
    with pytest.raises(AppError) as refused:
        wechat.send_subscribe_message("openid-1", TEMPLATE, raw)
    assert refused.value.details["errcode"] == 47003

    wechat.send_subscribe_message("openid-1", TEMPLATE, fit_data(fields, payload, SHANGHAI), page="pages/x")
    assert [call["errcode"] for call in fake_wechat.calls(SEND_PATH)] == [47003, 0]


# --- the client -------------------------------------------------------------------------


@pytest.mark.parametrize("errcode, code", [(43101, "WECHAT_ERROR"), (47003, "WECHAT_ERROR"), (40003, "WECHAT_ERROR"),
                                           (-1, "WECHAT_UNAVAILABLE"), (45009, "WECHAT_UNAVAILABLE")])
def test_send_errors_keep_their_errcode(fake_wechat, errcode, code):
    wechat = WeChat(f"wx-errors-{errcode}", "secret", api_base=fake_wechat.base_url, timeout=2)
    fake_wechat.control(fail={"path": SEND_PATH, "errcode": errcode})
    with pytest.raises(AppError) as caught:
        wechat.send_subscribe_message("openid-1", TEMPLATE, {"thing1": {"value": "x"}})
    assert (caught.value.code, caught.value.details["errcode"]) == (code, errcode)


def test_a_failure_says_whether_the_request_may_have_reached_wechat(fake_wechat):
    slow = WeChat("wx-slow", "secret", api_base=fake_wechat.base_url, timeout=0.3)
    slow.send_subscribe_message("openid-1", TEMPLATE, {"thing1": {"value": "x"}})  # a token first
    fake_wechat.control(delay={"path": SEND_PATH, "seconds": 1})
    with pytest.raises(AppError) as timed_out:
        slow.send_subscribe_message("openid-1", TEMPLATE, {"thing1": {"value": "x"}})
    assert timed_out.value.details == {"transport": "ReadTimeout", "request_sent": True}

    nowhere = WeChat("wx-nowhere", "secret", api_base="http://127.0.0.1:9/", timeout=0.3)
    with pytest.raises(AppError) as refused:
        nowhere.send_subscribe_message("openid-1", TEMPLATE, {"thing1": {"value": "x"}})
    assert refused.value.details == {"transport": "ConnectionError", "request_sent": False}


# --- sends through a real worker -----------------------------------------------------------


def test_each_acceptance_is_one_send_and_no_quota_is_skipped(app, world, ctx, fake_wechat):
    member_id = send_one(app, accepted=1)
    expiring_event(member_id, points=7)
    db.session.commit()
    run_worker(app)

    assert [(m.status, m.error_code) for m in messages()] == [("sent", None), ("skipped", "NO_QUOTA")]
    assert len(fake_wechat.calls(SEND_PATH)) == 1 and remaining(member_id) == 0


def test_43101_fails_the_message_and_sets_the_quota_to_zero(app, world, ctx, fake_wechat):
    fake_wechat.control(fail={"path": SEND_PATH, "errcode": 43101, "touser": "fake-openid-alice"})
    member_id = send_one(app, accepted=3)
    run_worker(app)

    (message,) = messages()
    assert (message.status, message.error_code, message.attempts) == ("failed", "43101", 1)
    assert remaining(member_id) == 0


@pytest.mark.parametrize("errcode", [47003, 40003, 40037])
def test_a_permanent_error_fails_at_once_and_gives_the_acceptance_back(app, world, ctx, fake_wechat, errcode):
    fake_wechat.control(fail={"path": SEND_PATH, "errcode": errcode})
    member_id = send_one(app, accepted=1)
    run_worker(app)

    (message,) = messages()
    assert (message.status, message.error_code, message.attempts) == ("failed", str(errcode), 1)
    assert len(fake_wechat.calls(SEND_PATH)) == 1 and remaining(member_id) == 1


@pytest.mark.parametrize("errcode", [-1, 45009])
def test_a_transient_error_is_retried_until_sent(app, world, ctx, fake_wechat, retry_at_once, errcode):
    fake_wechat.control(fail={"path": SEND_PATH, "errcode": errcode, "times": 2})
    member_id = send_one(app, accepted=1)
    run_worker(app)

    (message,) = messages()
    assert (message.status, message.error_code, message.attempts) == ("sent", None, 3)
    assert len(delivered(fake_wechat)) == 1 and remaining(member_id) == 0


def test_retries_run_out_into_a_failure_with_the_code(app, world, ctx, fake_wechat, retry_at_once):
    fake_wechat.control(fail={"path": SEND_PATH, "errcode": 45009, "times": 10})
    member_id = send_one(app, accepted=1)
    run_worker(app)

    (message,) = messages()
    assert (message.status, message.error_code, message.attempts) == ("failed", "45009", 4)
    assert len(fake_wechat.calls(SEND_PATH)) == 4 and remaining(member_id) == 1


def test_an_expired_token_is_refreshed_once_and_shared(app, world, ctx, fake_wechat):
    member_id = send_one(app, accepted=2)
    run_worker(app)
    fake_wechat.control(expire_tokens=True)
    expiring_event(member_id, points=8)
    db.session.commit()
    app.extensions["wechat"] = None  # another process: its client reads the token from Redis
    run_worker(app)

    assert [m.status for m in messages()] == ["sent", "sent"]
    assert len(fake_wechat.calls("/cgi-bin/token")) == 2
    assert [call["errcode"] for call in fake_wechat.calls(SEND_PATH)] == [0, 42001, 0]


def test_no_answer_after_sending_is_unconfirmed_and_never_sent_again(app, world, ctx, fake_wechat, monkeypatch,
                                                                    retry_at_once):
    """At most once: a read timeout may hide a delivery, so the message is not retried."""
    monkeypatch.setitem(app.config, "WECHAT_TIMEOUT", 0.3)
    fake_wechat.control(delay={"path": SEND_PATH, "seconds": 1})
    member_id = send_one(app, accepted=1)
    run_worker(app)

    (message,) = messages()
    assert (message.status, message.error_code, message.attempts) == ("unconfirmed", "ReadTimeout", 1)
    wait_for(lambda: fake_wechat.calls(SEND_PATH)[0]["errcode"] == 0)
    assert len(delivered(fake_wechat)) == 1 and remaining(member_id) == 0


def test_wechat_unreachable_is_retried_then_failed(app, world, ctx, monkeypatch, retry_at_once):
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", "http://127.0.0.1:9/")
    member_id = send_one(app, accepted=1)
    run_worker(app)

    (message,) = messages()
    assert (message.status, message.error_code, message.attempts) == ("failed", "ConnectionError", 4)
    assert remaining(member_id) == 1


def test_long_term_templates_send_without_using_the_subscription(app, world, ctx, fake_wechat, monkeypatch):
    monkeypatch.setitem(app.config, "SUBSCRIBE_LONG_TERM_TEMPLATES", f"other,{TEMPLATE}")
    member_id = send_one(app, accepted=1)
    expiring_event(member_id, points=9)
    db.session.commit()
    run_worker(app)
    assert [m.status for m in messages()] == ["sent", "sent"] and remaining(member_id) == 1

    from app.messaging.subscriptions import report

    report(member_id, {TEMPLATE: "reject"})
    expiring_event(member_id, points=10)
    db.session.commit()
    run_worker(app)
    assert [m.status for m in messages()] == ["sent", "sent", "skipped"]


def test_a_message_enqueued_twice_is_sent_once(app, world, ctx, fake_wechat):
    send_one(app, accepted=5)
    dispatch_outbox()
    (message,) = messages()
    enqueue_sends([message.id, message.id])
    run_worker(app)

    assert [(m.status, m.attempts) for m in messages()] == [("sent", 1)]
    assert len(fake_wechat.calls(SEND_PATH)) == 1


def test_a_worker_started_as_the_readme_says_sends_the_retry_after_its_backoff(app, world, ctx, fake_wechat,
                                                                               monkeypatch):
    """rq keeps a retry with a delay in its scheduled registry: only a worker running rq's
    scheduler puts it back on the queue."""
    monkeypatch.setitem(app.config, "MESSAGE_RETRY_INTERVALS", "1")
    fake_wechat.control(fail={"path": SEND_PATH, "errcode": -1, "times": 1})
    member_id = send_one(app)
    dispatch_outbox()
    with worker_process(app) as worker:
        try:
            wait_for(lambda: [m.status for m in messages()] == ["sent"], seconds=30)
        except AssertionError:
            raise AssertionError(f"{messages()}\n{log_of(worker)}") from None
    (message,) = messages()
    assert (message.status, message.attempts) == ("sent", 2)
    assert [call["errcode"] for call in fake_wechat.calls(SEND_PATH)] == [-1, 0] and remaining(member_id) == 0


def test_the_embedded_default_retries_a_send_after_its_backoff(app, world, fake_wechat):
    """Without Redis the in-process scheduler keeps the retry and runs it when due."""
    fake_wechat.control(fail={"path": SEND_PATH, "errcode": -1, "times": 1})
    with another_app(app, None, MESSAGE_RETRY_INTERVALS="1") as embedded, embedded.app_context():
        member_id = send_one(embedded)
        scheduler = InProcessScheduler(embedded)
        embedded.extensions["inprocess_scheduler"] = scheduler  # as `flask serve` starts it, without its thread
        scheduler.tick()  # every entry once: the dispatcher sends, WeChat answers -1
        assert [(m.status, m.error_code, m.attempts) for m in messages()] == [("retrying", "-1", 1)]
        wait_for(lambda: scheduler.tick() is not None and messages()[0].status == "sent", seconds=10)
        (message,) = messages()
        assert message.attempts == 2 and remaining(member_id) == 0
    assert [call["errcode"] for call in fake_wechat.calls(SEND_PATH)] == [-1, 0]


def test_sends_are_queued_with_backoff(app, world, ctx):
    send_one(app)
    dispatch_outbox()
    (job,) = [job for job in queue_of(app).get_jobs() if job.func_name == "app.tasks.jobs.send_message"]
    assert (job.retries_left, job.retry_intervals, job.timeout) == (3, [10, 60, 300], 60)


def test_a_worker_killed_mid_send_leaves_the_member_one_message(app, world, ctx, fake_wechat, retry_at_once):
    """SIGKILL while WeChat is answering; after the job's registry entry expires (shortened here)
    a new worker retries it: the retry sees its own claim, marks it unconfirmed, sends nothing."""
    member_id = send_one(app, accepted=2)
    dispatch_outbox()
    fake_wechat.control(delay={"path": SEND_PATH, "seconds": 2})
    with worker_process(app) as worker:
        wait_for(lambda: fake_wechat.calls(SEND_PATH))
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    assert [m.status for m in messages()] == ["sending"]

    fake_wechat.control(delay={"path": SEND_PATH, "seconds": 0})
    started = StartedJobRegistry(queue=queue_of(app))
    entries = started.connection.zrange(started.key, 0, -1)
    assert len(entries) == 1
    started.connection.zadd(started.key, {entry: 1 for entry in entries})  # its lease ran out
    run_worker(app)

    (message,) = messages()
    assert (message.status, message.error_code, message.attempts) == ("unconfirmed", "OUTCOME_UNKNOWN", 1)
    wait_for(lambda: fake_wechat.calls(SEND_PATH)[0]["errcode"] is not None)
    assert [sent["touser"] for sent in delivered(fake_wechat)] == ["fake-openid-alice"]
    assert remaining(member_id) == 1


# --- many events, two worker processes ------------------------------------------------------
# 10,000 events on PostgreSQL, where the two workers really run side by side (about a
# minute and a half on 2 cores). SQLite serializes every writer, so there the same mix
# runs at a tenth of the size.

# per member, cycling: (accepted one-time subscriptions, fake switch for the member's sends)
GROUPS = [
    (0, None), (3, None), (10, None), (10, {"errcode": 43101, "times": 1}), (10, {"errcode": 47003, "times": 2}),
    (10, {"errcode": -1, "times": 3}), (10, "invalid openid"), (2, None), (10, None), (1, None),
    (10, {"errcode": 45009, "times": 1000}), (0, None), (10, {"errcode": 45011, "times": 1}), (5, None),
    (10, None), (10, None), (4, None), (10, None), (7, None), (10, None),
]
EVENTS_PER_MEMBER = 10


def test_ten_thousand_events_through_two_workers(app, world, ctx, fake_wechat, retry_at_once, is_postgres):
    """Every message ends sent, skipped or failed with a code; none sent twice; none beyond its quota."""
    points_rule()
    tier_id = entry_tier().id
    members = 1000 if is_postgres else 100
    openids = [f"{'invalid' if GROUPS[i % len(GROUPS)][1] == 'invalid openid' else 'bulk'}-{i}" for i in range(members)]
    db.session.execute(insert(Member), [{"openid": openid, "card_no": f"9{i:015d}", "code_secret": "00" * 20,
                                         "tier_id": tier_id} for i, openid in enumerate(openids)])
    ids = dict(db.session.execute(select(Member.openid, Member.id)).all())
    accepted = {ids[openid]: GROUPS[i % len(GROUPS)][0] for i, openid in enumerate(openids)}
    db.session.execute(insert(Subscription), [
        {"member_id": member_id, "template_id": TEMPLATE, "remaining": quota, "accepted_count": quota,
         "rejected_count": 0} for member_id, quota in accepted.items() if quota])
    for i, openid in enumerate(openids):
        if isinstance(switch := GROUPS[i % len(GROUPS)][1], dict):
            fake_wechat.control(fail={"path": SEND_PATH, "touser": openid, **switch})
    for n in range(EVENTS_PER_MEMBER * members):
        expiring_event(ids[openids[n % members]], points=n)
    db.session.commit()
    dispatch_outbox()

    with worker_process(app, "--burst") as first, worker_process(app, "--burst") as second:
        fake_wechat.control(expire_tokens=True)  # mid-run: both workers refresh through Redis
        for worker in (first, second):
            assert worker.wait(600) == 0, log_of(worker)

    logged = messages()
    assert len(logged) == EVENTS_PER_MEMBER * members
    outcomes = Counter((m.status, m.error_code) for m in logged)
    assert set(outcomes) <= {("sent", None), ("skipped", "NO_QUOTA"), ("failed", "43101"), ("failed", "47003"),
                             ("failed", "40003"), ("failed", "45009")}, outcomes
    sends = [(call["touser"], call["data"]["number3"]["value"]) for call in delivered(fake_wechat)]
    assert len(sends) == len(set(sends)), "a message was delivered twice"
    assert sorted(sends) == sorted((m.openid, m.data["number3"]["value"]) for m in logged if m.status == "sent")
    sent_to = Counter(touser for touser, _ in sends)
    left = dict(db.session.execute(select(Subscription.member_id, Subscription.remaining)).all())
    per_member = defaultdict(Counter)
    for message in logged:
        per_member[message.member_id][(message.status, message.error_code)] += 1
    for i, openid in enumerate(openids):
        quota, switch = GROUPS[i % len(GROUPS)]
        member_id = ids[openid]
        assert sent_to[openid] <= quota, (openid, quota)
        refused = switch == {"errcode": 43101, "times": 1}
        assert left.get(member_id, 0) == (0 if refused else quota - sent_to[openid]), openid
        expected = settled(quota, switch)
        if expected is not None:
            assert per_member[member_id] == expected, (openid, per_member[member_id])


def settled(quota: int, switch) -> Counter | None:
    """How a member's messages end when that does not depend on which worker ran what first."""
    sent = min(quota, EVENTS_PER_MEMBER)
    if switch == "invalid openid":
        return Counter({("failed", "40003"): EVENTS_PER_MEMBER})
    if switch == {"errcode": 47003, "times": 2}:
        return Counter({("sent", None): EVENTS_PER_MEMBER - 2, ("failed", "47003"): 2})
    if switch is None or switch["errcode"] in (-1, 45011):  # none, or retried until sent
        return Counter({("sent", None): sent, ("skipped", "NO_QUOTA"): EVENTS_PER_MEMBER - sent}) - Counter()
    return None
