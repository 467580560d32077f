"""Benchmark of issue 5: redemptions per second against the same writes as raw SQL.

    python -m bench.redeem [--members N] [--rounds R] [--seconds S] [--workers W]

Recreates $BENCH_DATABASE_URL (default membermall_bench2, Redis DB 13), loads members with
their ledgers (bench/dataset.py), tops every member up with points enough for the run
and adds three virtual items with a large stock: one for the app, one for each raw SQL
side. Then, in rounds of the same run, each side taking each turn:
- the app: wrk with 32 connections POSTs /api/v1/member/mall/orders under gunicorn, a
  random member's token and a fresh Idempotency-Key per request;
- raw SQL: pgbench -c 32 runs one transaction with the same writes as the app (balance
  update as the member's lock, order insert, ledger insert, lot update with its
  consumption, outbox event, the Idempotency-Key's record, stock guard UPDATE);
- raw SQL, core writes: the same without the outbox event and the key's record (the
  issue's list), for comparison with earlier figures.
The target is the app at ≥ 50 % of the raw figure with the same writes. Afterwards the
data is checked: no oversell (orders + stock left = initial stock, stock never
negative) and, for a sample of members, a balanced ledger. Figures go to stdout and
bench/results/redeem.json.
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
APP_ITEM, RAW_ITEM, RAW_CORE_ITEM = 1, 2, 3
SAMPLE = 1000
UPDATED_TABLES = ("mall_items", "members", "point_lots", "idempotency_records")  # rows a redemption updates

# One redemption in raw SQL, in the app's lock order: the member first, the item's hot
# row last. The core writes (the list, and the lot the debit draws from):
_CORE_WRITES = f"""\\set mid random(1, :members)
BEGIN;
UPDATE members SET points_balance = points_balance - {PRICE} WHERE id = :mid AND points_balance >= {PRICE};
INSERT INTO mall_orders (member_id, item_id, points, state, created_at)
  VALUES (:mid, :item, {PRICE}, 'completed', now()) RETURNING id AS order_id \\gset
INSERT INTO ledger_entries (member_id, account, delta, kind, ref, idempotency_key, created_at)
  VALUES (:mid, 'points', -{PRICE}, 'mall_redeem', 'mall_order:' || :order_id, 'mall_order:' || :order_id, now())
  RETURNING id AS entry_id \\gset
WITH lot AS (
  UPDATE point_lots SET remaining = remaining - {PRICE}
  WHERE id = (SELECT id FROM point_lots WHERE member_id = :mid AND remaining >= {PRICE}
              ORDER BY expires_on, id LIMIT 1)
  RETURNING id)
INSERT INTO lot_consumptions (entry_id, lot_id, amount) SELECT :entry_id, id, {PRICE} FROM lot;
"""
# What else the app writes for each redemption: the outbox event (兑换成功) and the
# Idempotency-Key's record with the reply (one INSERT here; the app claims, then fills in).
_APP_EXTRA_WRITES = """INSERT INTO outbox_events (kind, member_id, payload, created_at)
  VALUES ('mall_redeemed', :mid::int, json_build_object('order_id', :order_id::bigint, 'item_name', '压测虚拟商品',
          'points', 10, 'points_left', 0, 'redeemed_on', current_date), now());
INSERT INTO idempotency_records (scope, key, fingerprint, status_code, body, started_at)
  VALUES ('member:' || :mid::text, 'pgbench-' || :order_id::text, md5(:order_id::text), 201,
          json_build_object('id', :order_id::bigint, 'item_id', :item::int, 'item_name', '压测虚拟商品',
                            'kind', 'virtual', 'points', 10, 'state', 'completed', 'created_at', now()), now());
"""
_TAKE_STOCK = "UPDATE mall_items SET stock = stock - 1 WHERE id = :item AND stock >= 1;\nEND;\n"
# side -> (item it redeems, pgbench script): the target is against the same writes as the app.
RAW_SIDES = {
    "raw": (RAW_ITEM, _CORE_WRITES + _APP_EXTRA_WRITES + _TAKE_STOCK),
    "raw_core": (RAW_CORE_ITEM, _CORE_WRITES + _TAKE_STOCK),
}


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
        for item_id, name in ((APP_ITEM, "压测虚拟商品(应用)"), (RAW_ITEM, "压测虚拟商品(SQL)"),
                              (RAW_CORE_ITEM, "压测虚拟商品(SQL 核心)")):
            conn.execute("""INSERT INTO mall_items (id, name, description, kind, price_points, stock, limit_period,
                                                    member_day_only, active, created_at)
                            VALUES (%s, %s, '', 'virtual', %s, %s, 'total', false, true, now())""",
                         [item_id, name, PRICE, STOCK])
        conn.execute("SELECT setval(pg_get_serial_sequence('mall_items', 'id'), 3)")


def run_app(base_url: str, tokens: Path, seconds: int) -> dict:
    figures = harness.wrk(base_url + ORDERS, ["member_tokens.lua", "redeem_orders.lua"], seconds, CLIENTS,
                          env={"BENCH_TOKENS": str(tokens), "BENCH_ITEM_ID": str(APP_ITEM)})
    if figures["non_2xx"] or figures["socket_errors"]:
        raise RuntimeError(f"app: {figures['non_2xx']} non-2xx replies, {figures['socket_errors']} socket errors")
    return {"requests": figures["requests"], "per_s": figures["requests_per_s"],
            "p50_ms": figures["p50_ms"], "p99_ms": figures["p99_ms"]}


def run_pgbench(url: str, script: Path, item_id: int, members: int, seconds: int) -> dict:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    command = ["pgbench", "-n", "-M", "prepared", "-c", str(CLIENTS), "-j", "2", "-T", str(seconds),
               "-D", f"members={members}", "-D", f"item={item_id}", "-f", str(script), dsn]
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
        for item_id in (APP_ITEM, RAW_ITEM, RAW_CORE_ITEM):
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
    parser.add_argument("--rounds", type=int, default=6)
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
    sides = ["app", *RAW_SIDES]
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory() as scratch:
        tokens = harness.mint_tokens(Path(scratch) / "tokens.txt", args.members, args.members)
        scripts = {side: Path(scratch) / f"{side}.sql" for side in RAW_SIDES}
        for side, path in scripts.items():
            path.write_text(RAW_SIDES[side][1])
        with harness.gunicorn(env, workers=args.workers, log_name="redeem-gunicorn") as base_url:
            run_app(base_url, tokens, 2)  # warm-up: connections, prepared statements, caches
            for round_no in range(args.rounds):
                for side in sides[round_no % 3:] + sides[:round_no % 3]:  # each side takes each turn
                    # Thousands of updates of one stock row, and of the members' balances,
                    # lots and key records, leave dead versions behind faster than
                    # autovacuum comes by, which slow whoever runs next (the app most, it
                    # reads those rows): each run starts vacuumed.
                    harness.vacuum_analyze(url, *UPDATED_TABLES)
                    if side == "app":
                        figures = run_app(base_url, tokens, args.seconds)
                    else:
                        figures = run_pgbench(url, scripts[side], RAW_SIDES[side][0], args.members, args.seconds)
                    runs[side].append(figures)
                    print(f"  round {round_no + 1} {side:8} {figures['per_s']:8.1f} redemptions/s", flush=True)

    checks = verify(url)
    app, raw, core = (summarize(runs[side]) for side in sides)
    ratio, core_ratio = app["per_s"] / raw["per_s"], app["per_s"] / core["per_s"]
    round_ratios = [a["per_s"] / r["per_s"] for a, r in zip(runs["app"], runs["raw"])]
    results = {
        "benchmark": "redeem",
        "members": args.members, "rounds": args.rounds, "seconds_per_round": args.seconds,
        "clients": CLIENTS, "server": {"gunicorn_workers": args.workers, "worker_class": "sync"},
        "app": {"path": ORDERS, "tool": "wrk", **app},
        "raw_sql": {"tool": "pgbench -M prepared", "script": RAW_SIDES["raw"][1], **raw},
        "raw_sql_core_writes": {"tool": "pgbench -M prepared", "script": RAW_SIDES["raw_core"][1], **core},
        "ratio": round(ratio, 3), "ratio_to_core_writes": round(core_ratio, 3),
        "round_ratios": [round(r, 3) for r in round_ratios],
        "target": TARGET, "meets_target": ratio >= TARGET,
        "checks": checks,
        "machine_before": conditions_before, "machine_after": harness.machine_conditions(),
        "total_seconds": round(time.monotonic() - started, 1),
    }
    path = harness.write_results("redeem", results)
    print(f"\napp (POST {ORDERS}) {app['per_s']:8.1f} redemptions/s at {CLIENTS} clients")
    print(f"raw SQL (pgbench), the same writes as the app {raw['per_s']:8.1f} redemptions/s at {CLIENTS} clients")
    print(f"raw SQL (pgbench), core writes only           {core['per_s']:8.1f} redemptions/s")
    print(f"app / raw = {ratio:.0%} (rounds: {', '.join(f'{r:.0%}' for r in round_ratios)}); "
          f"target ≥ {TARGET:.0%}: {'met' if results['meets_target'] else 'NOT met'}; "
          f"app / core writes = {core_ratio:.0%}")
    print(f"oversell: {'none' if all(s['ok'] for s in checks['stock'].values()) else 'FOUND'} {checks['stock']}; "
          f"unbalanced ledgers in a sample of {SAMPLE}: {checks['unbalanced_members']}; "
          f"results in {path.relative_to(harness.ROOT)}")
    if not checks["ok"]:
        raise SystemExit("redeem: the data checks failed")


if __name__ == "__main__":
    main()
