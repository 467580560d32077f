"""Benchmark of issue 5: redemptions per second against the same writes as raw SQL.

    python -m bench.redeem [--members N] [--rounds R] [--seconds S] [--workers W]

Recreates $BENCH_DATABASE_URL (default membermall_bench2, Redis DB 13), loads members with
their ledgers (bench/dataset.py), tops every member up with points enough for the run
and adds two virtual items with a large stock: one for the app, one for pgbench. Then,
in alternating rounds of the same run:
- the app: wrk with 32 connections POSTs /api/v1/member/mall/orders under gunicorn, a
  random member's token and a fresh Idempotency-Key per request;
- raw SQL: pgbench -c 32 runs one transaction with the same writes (balance update as
  the member's lock, order insert, ledger insert, lot update with its consumption, stock
  guard UPDATE), bounded by -T.
The target is the app at ≥ 50 % of the raw figure. Afterwards the data is checked: no
oversell (orders + stock left = initial stock, stock never negative) and, for a sample
of members, a balanced ledger. Figures go to stdout and bench/results/redeem.json.
"""
import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/membermall_bench2")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

from sqlalchemy.engine import make_url  # noqa: E402

from bench import dataset, harness  # noqa: E402

ORDERS = "/api/v1/member/mall/orders"
TARGET = 0.50
CLIENTS = 32
PRICE = 10
STOCK = 10_000_000
TOP_UP = 1_000_000
APP_ITEM, RAW_ITEM = 1, 2
SAMPLE = 1000

# One redemption in raw SQL, in the app's lock order: member, then the item's hot row last.
PGBENCH_SCRIPT = f"""\\set mid random(1, :members)
BEGIN;
UPDATE members SET points_balance = points_balance - {PRICE} WHERE id = :mid AND points_balance >= {PRICE};
INSERT INTO mall_orders (member_id, item_id, points, state, created_at)
  VALUES (:mid, {RAW_ITEM}, {PRICE}, 'completed', now()) RETURNING id AS order_id \\gset
INSERT INTO ledger_entries (member_id, account, delta, kind, ref, idempotency_key, created_at)
  VALUES (:mid, 'points', -{PRICE}, 'mall_redeem', 'mall_order:' || :order_id, 'mall_order:' || :order_id, now())
  RETURNING id AS entry_id \\gset
WITH lot AS (
  UPDATE point_lots SET remaining = remaining - {PRICE}
  WHERE id = (SELECT id FROM point_lots WHERE member_id = :mid AND remaining >= {PRICE}
              ORDER BY expires_on, id LIMIT 1)
  RETURNING id)
INSERT INTO lot_consumptions (entry_id, lot_id, amount) SELECT :entry_id, id, {PRICE} FROM lot;
UPDATE mall_items SET stock = stock - 1 WHERE id = {RAW_ITEM} AND stock >= 1;
END;
"""


def prepare(url: str) -> None:
    """Points for every member (a credit entry, its lot, the balance) and the two items."""
    with harness.connect(url) as conn:
        conn.execute(f"""WITH e AS (
            INSERT INTO ledger_entries (member_id, account, delta, kind, ref, idempotency_key, created_at)
            SELECT id, 'points', {TOP_UP}, 'purchase', 'bench', 'bench:topup:' || id, now() FROM members
            RETURNING id, member_id)
          INSERT INTO point_lots (member_id, entry_id, amount, remaining, expires_on)
          SELECT member_id, id, {TOP_UP}, {TOP_UP}, current_date + 700 FROM e""")
        conn.execute(f"UPDATE members SET points_balance = points_balance + {TOP_UP}")
        for item_id, name in ((APP_ITEM, "压测虚拟商品(应用)"), (RAW_ITEM, "压测虚拟商品(SQL)")):
            conn.execute("""INSERT INTO mall_items (id, name, description, kind, price_points, stock, limit_period,
                                                    member_day_only, active, created_at)
                            VALUES (%s, %s, '', 'virtual', %s, %s, 'total', false, true, now())""",
                         [item_id, name, PRICE, STOCK])
        conn.execute("SELECT setval(pg_get_serial_sequence('mall_items', 'id'), 2)")


def run_app(base_url: str, tokens: Path, seconds: int) -> dict:
    figures = harness.wrk(base_url + ORDERS, ["member_tokens.lua", "redeem_orders.lua"], seconds, CLIENTS,
                          env={"BENCH_TOKENS": str(tokens), "BENCH_ITEM_ID": str(APP_ITEM)})
    if figures["non_2xx"] or figures["socket_errors"]:
        raise RuntimeError(f"app: {figures['non_2xx']} non-2xx replies, {figures['socket_errors']} socket errors")
    return {"requests": figures["requests"], "per_s": figures["requests_per_s"],
            "p50_ms": figures["p50_ms"], "p99_ms": figures["p99_ms"]}


def run_pgbench(url: str, script: Path, members: int, seconds: int) -> dict:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    command = ["pgbench", "-n", "-M", "prepared", "-c", str(CLIENTS), "-j", "2", "-T", str(seconds),
               "-D", f"members={members}", "-f", str(script), dsn]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    done = re.search(r"number of transactions actually processed: (\d+)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if tps is None or done is None:
        raise RuntimeError(f"pgbench printed no tps:\n{output}")
    if failed and int(failed.group(1)):
        raise RuntimeError(f"pgbench: {failed.group(1)} failed transactions")
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    return {"requests": int(done.group(1)), "per_s": float(tps.group(1)),
            "latency_avg_ms": float(latency.group(1)) if latency else None}


def verify(url: str) -> dict:
    """No oversell on either item; for a sample of members the ledger agrees with itself."""
    with harness.connect(url) as conn:
        stock = {}
        for item_id in (APP_ITEM, RAW_ITEM):
            left = conn.execute("SELECT stock FROM mall_items WHERE id = %s", [item_id]).fetchone()[0]
            orders = conn.execute("SELECT count(*) FROM mall_orders WHERE item_id = %s", [item_id]).fetchone()[0]
            stock[item_id] = {"initial": STOCK, "orders": orders, "left": left,
                              "ok": left >= 0 and orders <= STOCK and orders + left == STOCK}
        unbalanced = conn.execute("""
            WITH sample AS (
              SELECT DISTINCT member_id AS id FROM (
                SELECT member_id FROM mall_orders ORDER BY random() LIMIT %(sample)s) s)
            SELECT count(*) FROM sample m JOIN members USING (id)
            WHERE points_balance <> (SELECT coalesce(sum(delta), 0) FROM ledger_entries e
                                     WHERE e.member_id = m.id AND account = 'points')
               OR points_balance <> (SELECT coalesce(sum(remaining), 0) FROM point_lots l WHERE l.member_id = m.id)
               OR EXISTS (SELECT 1 FROM ledger_entries e WHERE e.member_id = m.id AND e.delta < 0
                          AND -e.delta <> (SELECT coalesce(sum(amount), 0) FROM lot_consumptions c
                                           WHERE c.entry_id = e.id))""", {"sample": SAMPLE}).fetchone()[0]
        debits = conn.execute("SELECT count(*) FROM ledger_entries WHERE kind = 'mall_redeem'").fetchone()[0]
        orders = conn.execute("SELECT count(*) FROM mall_orders").fetchone()[0]
    return {"stock": stock, "sampled_members": SAMPLE, "unbalanced_members": unbalanced,
            "one_debit_per_order": debits == orders,
            "ok": all(s["ok"] for s in stock.values()) and unbalanced == 0 and debits == orders}


def summarize(runs: list[dict]) -> dict:
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["requests"] / run["per_s"] for run in runs)
    return {"requests": requests, "per_s": round(requests / seconds, 1), "rounds": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5, help="per side and round")
    # Sync workers: 2 CPUs, but each request also waits on PostgreSQL and the item's row lock.
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    args = parser.parse_args()
    harness.stop_on_sigterm()
    harness.ensure_command("wrk", "wrk")
    harness.ensure_command("pgbench", "postgresql-contrib")
    url = harness.DATABASE_URL

    started = time.monotonic()
    harness.recreate_database(url)
    harness.migrate(url)
    counts = dataset.load(url, args.members)
    prepare(url)
    harness.vacuum_analyze(url)
    print(f"redeem: database ready in {time.monotonic() - started:.0f} s: {counts['members']} members", flush=True)

    conditions_before = harness.machine_conditions()
    env = {"DATABASE_URL": url, "REDIS_URL": harness.REDIS_URL, "SECRET_KEY": harness.SECRET_KEY,
           "MEMBERMALL_ENV": "production", "WECHAT_APPID": "wx-bench", "WECHAT_SECRET": "bench"}
    runs: dict[str, list[dict]] = {"app": [], "raw": []}
    with tempfile.TemporaryDirectory() as scratch:
        tokens = harness.mint_tokens(Path(scratch) / "tokens.txt", args.members, args.members)
        script = Path(scratch) / "redeem.sql"
        script.write_text(PGBENCH_SCRIPT)
        with harness.gunicorn(env, workers=args.workers, log_name="redeem-gunicorn") as base_url:
            run_app(base_url, tokens, 2)  # warm-up: connections, prepared statements, caches
            for round_no in range(args.rounds):
                for side in ("raw", "app") if round_no % 2 == 0 else ("app", "raw"):
                    # Thousands of updates of one stock row leave as many dead versions
                    # behind, which slow whoever runs next: each run starts vacuumed.
                    harness.vacuum_analyze(url, "mall_items")
                    if side == "app":
                        figures = run_app(base_url, tokens, args.seconds)
                    else:
                        figures = run_pgbench(url, script, args.members, args.seconds)
                    runs[side].append(figures)
                    print(f"  round {round_no + 1} {side:4} {figures['per_s']:8.1f} redemptions/s", flush=True)

    checks = verify(url)
    app, raw = summarize(runs["app"]), summarize(runs["raw"])
    ratio = app["per_s"] / raw["per_s"]
    round_ratios = [a["per_s"] / r["per_s"] for a, r in zip(runs["app"], runs["raw"])]
    results = {
        "benchmark": "redeem",
        "members": args.members, "rounds": args.rounds, "seconds_per_round": args.seconds,
        "clients": CLIENTS, "server": {"gunicorn_workers": args.workers, "worker_class": "sync"},
        "app": {"path": ORDERS, "tool": "wrk", **app},
        "raw_sql": {"tool": "pgbench -M prepared", "script": PGBENCH_SCRIPT, **raw},
        "ratio": round(ratio, 3),
        "round_ratios": [round(r, 3) for r in round_ratios],
        "target": TARGET, "meets_target": ratio >= TARGET,
        "checks": checks,
        "machine_before": conditions_before, "machine_after": harness.machine_conditions(),
        "total_seconds": round(time.monotonic() - started, 1),
    }
    path = harness.write_results("redeem", results)
    print(f"\napp (POST {ORDERS}) {app['per_s']:8.1f} redemptions/s at {CLIENTS} clients")
    print(f"raw SQL (pgbench)          {raw['per_s']:8.1f} redemptions/s at {CLIENTS} clients")
    print(f"app / raw = {ratio:.0%} (rounds: {', '.join(f'{r:.0%}' for r in round_ratios)}); "
          f"target ≥ {TARGET:.0%}: {'met' if results['meets_target'] else 'NOT met'}")
    print(f"oversell: {'none' if all(s['ok'] for s in checks['stock'].values()) else 'FOUND'} {checks['stock']}; "
          f"unbalanced ledgers in a sample of {SAMPLE}: {checks['unbalanced_members']}; "
          f"results in {path.relative_to(harness.ROOT)}")
    if not checks["ok"]:
        raise SystemExit("redeem: the data checks failed")


if __name__ == "__main__":
    main()
