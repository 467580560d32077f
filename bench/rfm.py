"""Benchmark of the RFM job (issue 14): app/layers/rfm.compute_layers against a bare
`GROUP BY member` over the same purchases, in the same run.

    python -m bench.rfm [--members N] [--purchases-per-member P] [--rounds R]

Recreates $BENCH_DATABASE_URL (default membermall_bench_rfm), loads N members
(bench/dataset.py) and about P purchases each over the last 400 days (one in ten partly
refunded), then alternates R rounds of the two sides and prints the median of each and
their ratio (the issue's target: ≤ 3×):
- the job: every member scored, layered and upserted, and the day's counts per layer and tier;
- the baseline: `SELECT member_id, count(*), sum(net), max(created_at) … GROUP BY member_id`
  over the window's purchases, consumed by a count (no rows sent to the client).
Figures go to stdout and bench/results/rfm.json. Timings are never a test.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/membermall_bench_rfm")

from bench import dataset, harness  # noqa: E402

BARE = """SELECT count(*) FROM (
    SELECT member_id, count(*), sum(amount_fen - refunded_fen), max(created_at) FROM purchases
    WHERE created_at >= now() - interval '365 days' AND amount_fen > refunded_fen GROUP BY member_id) s"""


def add_purchases(url: str, members: int, per_member: int) -> int:
    with harness.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("INSERT INTO stores (id, code, name, created_at) VALUES (1, 'B1', 'bench', now())")
        conn.execute("""INSERT INTO staff (id, store_id, username, password_hash, name, role, active, created_at)
                        VALUES (1, 1, 'bench', 'x', 'bench', 'clerk', true, now())""")
        conn.execute("""INSERT INTO purchases (store_id, member_id, staff_id, order_no, amount_fen, refunded_fen,
                                               points_earned, growth_earned, created_at)
            SELECT 1, m, 1, 'b-' || m || '-' || n, a, CASE WHEN (m + n) %% 10 = 0 THEN a / 2 ELSE 0 END, 0, 0,
                   now() - (random() * 400) * interval '1 day'
            FROM generate_series(1, %(members)s) m,
                 LATERAL generate_series(1, 1 + (m * 7919) %% (2 * %(per)s)) n,
                 LATERAL (SELECT (1000 + floor(random() * 100000))::bigint AS a) amount""",
                     {"members": members, "per": per_member})
        return conn.execute("SELECT count(*) FROM purchases").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--purchases-per-member", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    url = harness.DATABASE_URL
    harness.recreate_database(url)
    harness.migrate(url)
    dataset.load(url, options.members)
    purchases = add_purchases(url, options.members, options.purchases_per_member)
    harness.vacuum_analyze(url)

    from app import create_app
    from app.extensions import db
    from app.layers import rfm

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    job, bare = [], []
    with app.app_context():
        for _ in range(options.rounds):
            started = time.perf_counter()
            counts = rfm.compute_layers()
            db.session.commit()
            job.append(time.perf_counter() - started)
            with harness.connect(url) as conn:
                started = time.perf_counter()
                conn.execute(BARE).fetchone()
                bare.append(time.perf_counter() - started)
    results = {
        "members": options.members, "purchases": purchases, "rounds": options.rounds, "layers": counts,
        "job_seconds": round(statistics.median(job), 3), "bare_group_by_seconds": round(statistics.median(bare), 3),
        "ratio": round(statistics.median(job) / statistics.median(bare), 2), "machine": harness.machine_conditions(),
    }
    print(f"RFM job: {results['job_seconds']} s · bare GROUP BY: {results['bare_group_by_seconds']} s · "
          f"ratio {results['ratio']}× (target ≤ 3×) · {options.members} members, {purchases} purchases")
    print(harness.write_results("rfm", results))


if __name__ == "__main__":
    main()
