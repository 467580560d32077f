"""Benchmark of issue 14 (the numbers): the dashboard and the tier page at two sizes.

    python -m bench.console [--small 10000] [--large 1000000] [--requests 40]

For each size, recreates a database of its own ($BENCH_DATABASE_URL with the size appended),
loads the members with their ledgers (bench/dataset.py) and 1–3 purchases each over the
last year (a points and a growth entry apiece: about 10 ledger entries a member, 10M at
1M members), half of them attributed to one of 20 stores, times the rollup job over all
those days, then times the pages in this process (the Flask test client, the request's own
work: token check, rollups read, today's rows live, the JSON written): p50 and p95 over
`--requests` requests of each preset. The target: p95 at the large size ≤ 1.5 × the small.
Figures go to stdout and bench/results/console.json.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/membermall_bench_console")

from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.operators.models import Operator  # noqa: E402
from app.security import ADMIN, issue_token  # noqa: E402
from app.tasks import jobs  # noqa: E402
from bench import dataset, harness  # noqa: E402

PAGES = [f"/api/v1/admin/dashboard?preset={preset}" for preset in ("7d", "30d", "ytd")] + [
    "/api/v1/admin/tiers/numbers?preset=30d"]
STORES = 20
TARGET = 1.5

# One store per 20 members' home, 1–3 purchases a member over the last 365 days (some today),
# each with its points and growth entries, as app/purchases posts them.
_PURCHASES = [
    """INSERT INTO stores (id, code, name, created_at)
       SELECT g, 'S' || g, '门店' || g, now() - interval '800 days' FROM generate_series(1, %(stores)s) g""",
    """INSERT INTO staff (id, store_id, username, password_hash, name, role, active, token_version, created_at)
       SELECT g, g, 'clerk' || g, 'x', 'clerk' || g, 'clerk', true, 0, now() FROM generate_series(1, %(stores)s) g""",
    """INSERT INTO home_stores (member_id, store_id, attributed_at)
       SELECT id, 1 + id %% %(stores)s, created_at FROM members WHERE id %% 2 = 0""",
    """CREATE TEMP TABLE bench_purchases ON COMMIT DROP AS
       SELECT row_number() OVER () AS id, m.id AS member_id, 1 + (m.id + n) %% %(stores)s AS store_id,
              (1000 + floor(random() * 50000))::bigint AS amount_fen,
              now() - random() * interval '365 days' AS created_at
       FROM members m CROSS JOIN LATERAL generate_series(1, 1 + m.id %% 3) n""",
    """INSERT INTO purchases (id, store_id, member_id, staff_id, order_no, amount_fen, refunded_fen, points_earned,
                             growth_earned, created_at)
       SELECT id, store_id, member_id, store_id, 'B' || id, amount_fen, 0, amount_fen / 100, amount_fen / 100,
              created_at FROM bench_purchases""",
    """INSERT INTO ledger_entries (member_id, account, delta, kind, ref, idempotency_key, created_at)
       SELECT member_id, account, amount_fen / 100, 'purchase', 'purchase:' || id,
              'purchase:' || id || ':' || account, created_at
       FROM bench_purchases CROSS JOIN (VALUES ('points'), ('growth')) a(account)""",
    "SELECT setval(pg_get_serial_sequence('purchases', 'id'), (SELECT max(id) FROM purchases))",
]


def load(url: str, members: int) -> dict:
    harness.recreate_database(url)
    harness.migrate(url)
    counts = dataset.load(url, members)
    with harness.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET session_replication_role = replica")
        for step in _PURCHASES:
            conn.execute(step, {"stores": STORES})
        counts["purchases"] = conn.execute("SELECT count(*) FROM purchases").fetchone()[0]
        counts["ledger_entries"] = conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0]
    harness.vacuum_analyze(url)
    return counts


def percentile(samples: list[float], share: float) -> float:
    return round(sorted(samples)[min(len(samples) - 1, int(len(samples) * share))] * 1000, 1)


def measure(url: str, requests: int) -> dict:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": harness.SECRET_KEY})
    with app.app_context():
        started = time.perf_counter()
        counts = jobs.roll_up_numbers()
        rollup_seconds = round(time.perf_counter() - started, 1)
        operator = Operator(username="bench", name="bench", password_hash="x")
        db.session.add(operator)
        db.session.commit()
        token = issue_token(harness.SECRET_KEY, ADMIN, operator.id)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    pages = {}
    for page in PAGES:
        reply = client.get(page, headers=headers)
        if reply.status_code != 200:
            raise RuntimeError(f"{page} answered {reply.status_code}: {reply.get_data(as_text=True)[:500]}")
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(page, headers=headers)
            samples.append(time.perf_counter() - started)
        pages[page] = {"p50_ms": round(statistics.median(samples) * 1000, 1), "p95_ms": percentile(samples, 0.95)}
    return {"rollup": {"seconds": rollup_seconds, **counts}, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    harness.stop_on_sigterm()
    base = make_url(os.environ["BENCH_DATABASE_URL"])
    results: dict = {"load_average_1_5_15": [round(load, 2) for load in os.getloadavg()]}
    for size in (args.small, args.large):
        url = base.set(database=f"{base.database}_{size}").render_as_string(hide_password=False)
        print(f"loading {size:,} members", flush=True)
        results[size] = {"data": load(url, size), **measure(url, args.requests)}
        print(results[size], flush=True)
    ratios = {page: round(results[args.large]["pages"][page]["p95_ms"] / results[args.small]["pages"][page]["p95_ms"],
                          2) for page in PAGES}
    results["p95_ratio"] = ratios
    for page in PAGES:
        small, large = results[args.small]["pages"][page], results[args.large]["pages"][page]
        print(f"{page}: p95 {small['p95_ms']} ms at {args.small:,}, {large['p95_ms']} ms at {args.large:,}: "
              f"{ratios[page]}× (target ≤ {TARGET}×)")
    print(harness.write_results("console", {str(key): value for key, value in results.items()}))


if __name__ == "__main__":
    main()
