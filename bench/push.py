"""Benchmark of issue 6 (push): outbox → RQ workers → fake WeChat, against a raw HTTP loop.

    python -m bench.push [--events N] [--workers W]

Recreates $BENCH_DATABASE_URL (default membermall_bench2; Redis DB 13, flushed), loads N
members (bench/dataset.py), a `points_expiring` rule and one accepted subscription per
member, and serves the fake WeChat (app/wechat/fake_server.py) in its own process on
127.0.0.1. With W `rq worker -w app.tasks.worker.AppWorker` processes idle and
registered, one transaction commits N events (its commit nudges the dispatcher, as in
production); the time runs from that commit until every message is `sent`. The
baseline posts the very same request bodies (the logged messages) to the same fake
server from W processes, each with one requests.Session and the access token fetched
once. Figures go to stdout and bench/results/push.json.
"""
import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/membermall_bench2")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

import redis  # noqa: E402
import requests  # noqa: E402
from rq import Worker  # noqa: E402

from bench import dataset, harness  # noqa: E402

SEND_PATH = "cgi-bin/message/subscribe/send"
TEMPLATE = "tmpl-bench-points-expiring"
FIELDS = {"thing1": "{points} 积分将于 {expires_on} 过期，请尽快使用", "date2": "{expires_on}", "number3": "{points}"}
QUEUE = "membermall-bench"
APPID, SECRET = "wx-bench", "bench"


def start_fake_wechat() -> tuple[subprocess.Popen, str]:
    port = harness._free_port()
    process = subprocess.Popen([sys.executable, "-m", "app.wechat.fake_server", "--port", str(port)],
                               cwd=harness.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    base_url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(base_url + "__fake__/calls", timeout=1).raise_for_status()
            return process, base_url
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                harness._stop(process)
                raise RuntimeError("the fake WeChat did not start") from None
            time.sleep(0.1)


def start_workers(count: int, env: dict) -> list[subprocess.Popen]:
    log = open(harness.RESULTS_DIR / "push-workers.log", "w")
    return [subprocess.Popen([str(harness.VENV_BIN / "rq"), "worker", "-w", "app.tasks.worker.AppWorker",
                              "--url", harness.REDIS_URL, "--logging_level", "WARNING", QUEUE],
                             cwd=harness.ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
            for _ in range(count)]


def wait_registered(connection: redis.Redis, count: int, workers: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=connection)) < count:
        if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
            raise RuntimeError("the rq workers did not start; see bench/results/push-workers.log")
        time.sleep(0.1)


def fake_sent(base_url: str) -> int:
    calls = requests.get(base_url + "__fake__/calls", timeout=30).json()
    return sum(1 for call in calls if call["path"] == "/" + SEND_PATH and call["errcode"] == 0)


def run_app(app, events: int, base_url: str, poll: float = 0.05) -> dict:
    """Commit the events (the commit nudges the dispatcher) and time until all are sent."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.messaging.models import SENT, Message
    from app.messaging.service import record_event

    with app.app_context():
        for member_id in range(1, events + 1):
            record_event("points_expiring", member_id, {"points": 100 + member_id % 900, "expires_on": "2026-12-31"})
        started = time.monotonic()
        db.session.commit()
        deadline = started + 600
        while True:
            by_status = dict(db.session.execute(select(Message.status, func.count()).group_by(Message.status)).all())
            db.session.commit()
            if by_status.get(SENT, 0) >= events or time.monotonic() > deadline:
                break
            time.sleep(poll)
        seconds = time.monotonic() - started
    if by_status.get(SENT, 0) != events:
        raise RuntimeError(f"not every message was sent: {by_status}")
    delivered = fake_sent(base_url)
    if delivered != events:
        raise RuntimeError(f"the fake WeChat accepted {delivered} sends, not {events}")
    return {"messages": events, "seconds": round(seconds, 3), "per_s": round(events / seconds, 1),
            "statuses": by_status}


def sent_bodies(app) -> list[dict]:
    """What the app sent: the logged messages as subscribeMessage.send bodies."""
    from sqlalchemy import select

    from app.extensions import db
    from app.messaging.models import Message

    with app.app_context():
        rows = db.session.execute(select(Message.openid, Message.template_id, Message.page, Message.data)
                                  .order_by(Message.id)).all()
    return [{"touser": r.openid, "template_id": r.template_id, "page": r.page, "data": r.data} for r in rows]


def _post_all(base_url: str, token: str, bodies: list[dict]) -> int:
    """One process of the baseline: post each body on one keep-alive session; count the accepted."""
    accepted = 0
    with requests.Session() as session:
        for body in bodies:
            reply = session.post(f"{base_url}{SEND_PATH}", params={"access_token": token}, json=body, timeout=10)
            accepted += reply.json().get("errcode") == 0
    return accepted


def run_raw(base_url: str, bodies: list[dict], processes: int) -> dict:
    token = requests.get(base_url + "cgi-bin/token", timeout=10, params={
        "grant_type": "client_credential", "appid": APPID, "secret": SECRET}).json()["access_token"]
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(int, range(processes)))  # the processes exist before the clock starts
        started = time.monotonic()
        accepted = sum(pool.map(_post_all, [base_url] * processes, [token] * processes,
                                [bodies[i::processes] for i in range(processes)]))
        seconds = time.monotonic() - started
    if accepted != len(bodies):
        raise RuntimeError(f"the fake WeChat accepted {accepted} of {len(bodies)} raw sends")
    return {"messages": len(bodies), "seconds": round(seconds, 3), "per_s": round(len(bodies) / seconds, 1)}


def prepare(app, url: str, events: int) -> None:
    from app.extensions import db
    from app.messaging import rules

    dataset.load(url, events)
    with app.app_context():
        rules.save_rule("points_expiring", TEMPLATE, fields=FIELDS, page="pages/points/index")
        db.session.commit()
    with harness.connect(url) as conn:  # one accepted subscription each: the quota the sends take
        conn.execute("""INSERT INTO subscriptions (member_id, template_id, remaining, accepted_count, rejected_count,
                                                   updated_at)
                        SELECT id, %s, 1, 1, 0, now() FROM members""", [TEMPLATE])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="rq worker processes (and raw-loop processes)")
    args = parser.parse_args()
    harness.stop_on_sigterm()
    url = harness.DATABASE_URL

    started = time.monotonic()
    harness.recreate_database(url)
    harness.migrate(url)
    redis.Redis.from_url(harness.REDIS_URL).flushdb()
    fake, base_url = start_fake_wechat()
    workers: list[subprocess.Popen] = []
    try:
        env = {"DATABASE_URL": url, "REDIS_URL": harness.REDIS_URL, "SECRET_KEY": harness.SECRET_KEY,
               "MEMBERMALL_ENV": "production", "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET,
               "WECHAT_API_BASE": base_url, "RQ_QUEUE": QUEUE}
        os.environ.update({k: v for k, v in env.items() if k != "MEMBERMALL_ENV"})
        from app import create_app

        app = create_app()
        prepare(app, url, args.events)
        harness.vacuum_analyze(url)
        conditions_before = harness.machine_conditions()
        workers = start_workers(args.workers, env)
        wait_registered(redis.Redis.from_url(harness.REDIS_URL), args.workers, workers)
        app_figures = run_app(app, args.events, base_url)
        print(f"  app: {app_figures['messages']} messages in {app_figures['seconds']:.2f} s", flush=True)
        requests.post(base_url + "__fake__/reset", timeout=10).raise_for_status()
        raw = run_raw(base_url, sent_bodies(app), args.workers)
        print(f"  raw: {raw['messages']} messages in {raw['seconds']:.2f} s", flush=True)
    finally:
        for process in (*workers, fake):
            harness._stop(process)

    ratio = app_figures["per_s"] / raw["per_s"]
    results = {
        "benchmark": "push", "events": args.events,
        "app": {"path": "outbox → dispatch_outbox → send_message jobs → fake WeChat",
                "rq_workers": args.workers, **app_figures},
        "raw_http": {"tool": "requests.Session per process", "processes": args.workers, **raw},
        "ratio": round(ratio, 3),
        "machine_before": conditions_before, "machine_after": harness.machine_conditions(),
        "total_seconds": round(time.monotonic() - started, 1),
    }
    path = harness.write_results("push", results)
    print(f"\napp ({args.workers} rq workers)      {app_figures['per_s']:8.1f} messages/s")
    print(f"raw HTTP ({args.workers} processes)   {raw['per_s']:8.1f} messages/s")
    print(f"app / raw = {ratio:.0%}; results in {path.relative_to(harness.ROOT)}")


if __name__ == "__main__":
    main()
