"""Benchmark of the RFM job (issue 14): app/layers/rfm.compute_layers against a bare
`GROUP BY member` over the same purchases, in the same run.

    python -m bench.rfm [--members N] [--rounds R] [--rebuild]

Runs over bench.console's dataset of N members (1M by default: ~2M purchases over the last
year, one in ten refunded by half), loaded once and kept, then alternates R rounds of the two
sides and prints the median of each and their ratio (the issue's target: ≤ 3×):
- the job: every member scored, layered and upserted, and the day's counts per layer and tier;
- the baseline: `SELECT member_id, count(*), sum(net), max(created_at) … GROUP BY member_id`
  over the window's purchases, consumed by a count (no rows sent to the client), with the
  job's work_mem (app/layers/rfm.WORK_MEM) so that neither side spills to disk where the other does not.
Figures go to stdout and bench/results/rfm.json. Timings are never a test.
"""
import argparse
import statistics
import time

from app import create_app
from app.extensions import db
from app.layers import rfm
from bench import console, harness

BARE = """SELECT count(*) FROM (
    SELECT member_id, count(*), sum(amount_fen - refunded_fen), max(created_at) FROM purchases
    WHERE created_at >= now() - interval '365 days' AND amount_fen > refunded_fen GROUP BY member_id) s"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="load the dataset again even if complete")
    options = parser.parse_args()
    url = console.dataset_url(options.members)
    console.prepared(url, options.members, options.rebuild)
    with harness.connect(url) as conn:
        purchases = conn.execute("SELECT count(*) FROM purchases").fetchone()[0]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    job, bare = [], []
    with app.app_context():
        for _ in range(options.rounds):
            started = time.perf_counter()
            counts = rfm.compute_layers()
            db.session.commit()
            job.append(time.perf_counter() - started)
            with harness.connect(url) as conn:
                conn.execute(f"SET work_mem = '{rfm.WORK_MEM}'")  # as the job has it: a fair baseline
                started = time.perf_counter()
                conn.execute(BARE).fetchone()
                bare.append(time.perf_counter() - started)
    results = {
        "members": options.members, "purchases": purchases, "rounds": options.rounds, "layers": counts,
        "job_seconds": round(statistics.median(job), 3), "bare_group_by_seconds": round(statistics.median(bare), 3),
        "ratio": round(statistics.median(job) / statistics.median(bare), 2), "machine": harness.machine_conditions(url),
    }
    print(f"RFM job: {results['job_seconds']} s · bare GROUP BY: {results['bare_group_by_seconds']} s · "
          f"ratio {results['ratio']}× (target ≤ 3×) · {options.members} members, {purchases} purchases")
    print(harness.write_results("rfm", results))


if __name__ == "__main__":
    main()
