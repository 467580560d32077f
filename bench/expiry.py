"""Benchmark of issue 6 (expiry): the points expiry job against one raw UPDATE, and card
reads while it runs.

    python -m bench.expiry [--members N] [--lots L] [--seconds S]

Recreates $BENCH_DATABASE_URL (default membermall_bench2), loads N members with their
ledgers (bench/dataset.py) and L more lots past their date with points left, spread over
the members (each with its credit entry and balance), then copies the database twice
(CREATE DATABASE … TEMPLATE): identical data for each measurement.
1. The job (app/points/expiry.expire_overdue, batches and all) on the original, timed.
2. One raw `UPDATE point_lots SET remaining = 0` over the same rows on the first copy.
3. On the second copy, under gunicorn: card reads (wrk, as bench/card_read) without the
   job, then again while the job runs in this process: p95 (and p50, p90, p99) of each.
Figures go to stdout and bench/results/expiry.json; the copies are dropped at the end.
"""
import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/membermall_bench2")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

from sqlalchemy.engine import make_url  # noqa: E402

from bench import dataset, harness  # noqa: E402
from bench.card_read import CARD, CONNECTIONS, WORKERS  # noqa: E402

TOKENS = 20_000
ROUND_SECONDS = 2


def add_overdue_lots(url: str, members: int, lots: int) -> None:
    """`lots` lots expired 1–30 days ago with all their points left, round-robin over members."""
    with harness.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("""WITH e AS (
            INSERT INTO ledger_entries (member_id, account, delta, kind, ref, idempotency_key, created_at)
            SELECT 1 + g %% %(members)s, 'points', 100, 'purchase', 'bench', 'bench:overdue:' || g,
                   now() - interval '400 days'
            FROM generate_series(1, %(lots)s) g
            RETURNING id, member_id)
          INSERT INTO point_lots (member_id, entry_id, amount, remaining, expires_on)
          SELECT member_id, id, 100, 100, current_date - 1 - (id %% 30)::int FROM e""",
                     {"members": members, "lots": lots})
        conn.execute("""UPDATE members m SET points_balance = points_balance + 100 * n
                        FROM (SELECT 1 + g %% %(members)s AS id, count(*) AS n
                              FROM generate_series(1, %(lots)s) g GROUP BY 1) c WHERE c.id = m.id""",
                     {"members": members, "lots": lots})


def copy_database(source: str, name: str) -> str:
    target = make_url(source).set(database=name)
    with harness.connect(make_url(source).set(database="postgres").render_as_string(False)) as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        # Idle pooled connections of this process (the migration's engine) would block the copy.
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                     [make_url(source).database])
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(source).database}"')
    return target.render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    with harness.connect(make_url(url).set(database="postgres").render_as_string(False)) as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def make_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": harness.REDIS_URL})


def run_job(url: str) -> dict:
    """The expiry job as the scheduler runs it, timed; and the day it expired up to."""
    from app.batches import run_batches
    from app.clock import today
    from app.points.expiry import expire_overdue

    app = make_app(url)
    with app.app_context():
        day = today()
        started = time.monotonic()
        counts = run_batches(expire_overdue())
        seconds = time.monotonic() - started
    return {"seconds": round(seconds, 2), "day": day.isoformat(), **counts,
            "lots_per_s": round(counts["lots"] / seconds)}


def overdue_open_lots(url: str, day: str) -> int:
    with harness.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM point_lots WHERE remaining > 0 AND expires_on < %s",
                            [day]).fetchone()[0]


def run_raw_update(url: str, day: str) -> dict:
    with harness.connect(url) as conn:
        started = time.monotonic()
        rows = conn.execute("UPDATE point_lots SET remaining = 0 WHERE remaining > 0 AND expires_on < %s",
                            [day]).rowcount
        conn.commit()
        seconds = time.monotonic() - started
    return {"seconds": round(seconds, 2), "lots": rows}


def card_rounds(base_url: str, tokens: Path, until) -> list[dict]:
    """Card-read rounds of ROUND_SECONDS until `until()` says stop."""
    runs = []
    while not until():
        figures = harness.wrk(base_url + CARD, ["member_tokens.lua"], ROUND_SECONDS, CONNECTIONS,
                              env={"BENCH_TOKENS": str(tokens)})
        if figures["non_2xx"] or figures["socket_errors"]:
            raise RuntimeError(f"card: {figures['non_2xx']} non-2xx replies, {figures['socket_errors']} socket errors")
        runs.append(figures)
    return runs


def summarize(runs: list[dict]) -> dict:
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["requests"] / run["requests_per_s"] for run in runs)
    return {"rounds": len(runs), "requests": requests, "requests_per_s": round(requests / seconds, 1),
            **{f"p{p}_ms": round(statistics.median(run[f"p{p}_ms"] for run in runs), 2) for p in (50, 90, 95, 99)},
            "max_ms": round(max(run["max_ms"] for run in runs), 2)}


def cards_during_job(url: str, tokens: Path, baseline_seconds: int) -> tuple[dict, dict, dict]:
    """Card reads without the job, then while it runs in a thread of this process."""
    env = {"DATABASE_URL": url, "REDIS_URL": harness.REDIS_URL, "SECRET_KEY": harness.SECRET_KEY,
           "MEMBERMALL_ENV": "production", "WECHAT_APPID": "wx-bench", "WECHAT_SECRET": "bench"}
    with harness.gunicorn(env, workers=WORKERS, log_name="expiry-gunicorn") as base_url:
        harness.wrk(base_url + CARD, ["member_tokens.lua"], 3, CONNECTIONS, env={"BENCH_TOKENS": str(tokens)})
        deadline = time.monotonic() + baseline_seconds
        alone = card_rounds(base_url, tokens, lambda: time.monotonic() > deadline)
        job: dict = {}
        thread = threading.Thread(target=lambda: job.update(run_job(url)))
        thread.start()
        during = card_rounds(base_url, tokens, lambda: not thread.is_alive())
        thread.join()
    if not job:
        raise RuntimeError("the expiry job under card load failed")
    return summarize(alone), summarize(during), job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # The scale: 1M lots of 200k members (about 8 minutes in all on 2 CPUs).
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--lots", type=int, default=1_000_000, help="overdue lots to expire")
    parser.add_argument("--seconds", type=int, default=10, help="card reads without the job")
    args = parser.parse_args()
    harness.stop_on_sigterm()
    harness.ensure_command("wrk", "wrk")
    url = harness.DATABASE_URL
    base = make_url(url).database

    started = time.monotonic()
    harness.recreate_database(url)
    harness.migrate(url)
    dataset.load(url, args.members)
    add_overdue_lots(url, args.members, args.lots)
    harness.vacuum_analyze(url)
    load_seconds = time.monotonic() - started
    print(f"expiry: scale {args.lots / 1_000_000:g}M overdue lots of {args.members} members "
          f"(issue: 1M of 200k); loaded in {load_seconds:.0f} s", flush=True)
    copies = []
    try:
        copies = [copy_database(url, f"{base}_raw"), copy_database(url, f"{base}_cards")]
        conditions_before = harness.machine_conditions()
        job = run_job(url)
        left = overdue_open_lots(url, job["day"])
        print(f"  job: {job['lots']} lots of {job['members']} members in {job['seconds']:.1f} s", flush=True)
        raw = run_raw_update(copies[0], job["day"])
        print(f"  raw UPDATE: {raw['lots']} lots in {raw['seconds']:.1f} s", flush=True)
        with tempfile.TemporaryDirectory() as scratch:
            tokens = harness.mint_tokens(Path(scratch) / "tokens.txt", args.members, TOKENS)
            alone, during, job_under_load = cards_during_job(copies[1], tokens, args.seconds)
    finally:
        for copy in copies:
            drop_database(copy)

    if job["lots"] != raw["lots"] or left:
        raise SystemExit(f"expiry: the job expired {job['lots']} lots, the raw UPDATE {raw['lots']}; {left} left")
    results = {
        "benchmark": "expiry", "members": args.members, "overdue_lots": args.lots,
        "job": job, "raw_update": raw, "job_over_raw": round(job["seconds"] / raw["seconds"], 1),
        "overdue_open_lots_after_job": left,
        "card_read": {"path": CARD, "gunicorn_workers": WORKERS, "connections": CONNECTIONS,
                      "round_seconds": ROUND_SECONDS, "without_job": alone, "during_job": during,
                      "job_under_load": job_under_load,
                      "note": "percentiles are the median of the rounds'"},
        "machine_before": conditions_before, "machine_after": harness.machine_conditions(),
        "load_seconds": round(load_seconds, 1), "total_seconds": round(time.monotonic() - started, 1),
    }
    path = harness.write_results("expiry", results)
    print(f"\nexpiry job      {job['lots']:>9} lots {job['members']:>8} members {job['seconds']:8.1f} s "
          f"({job['lots_per_s']} lots/s)")
    print(f"raw UPDATE      {raw['lots']:>9} lots {'':>16} {raw['seconds']:8.1f} s  (job / raw = "
          f"{results['job_over_raw']}×)")
    for name, figures in (("card, no job", alone), ("card, during job", during)):
        print(f"{name:17} {figures['requests_per_s']:8.1f} req/s  p50 {figures['p50_ms']:6.2f}  "
              f"p90 {figures['p90_ms']:6.2f}  p95 {figures['p95_ms']:6.2f}  p99 {figures['p99_ms']:6.2f} ms  "
              f"({figures['rounds']} rounds)")
    print(f"job under card load: {job_under_load['seconds']:.1f} s; results in {path.relative_to(harness.ROOT)}")


if __name__ == "__main__":
    main()
