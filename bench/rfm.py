"""Benchmark of the RFM job (issue 14): app/layers/rfm.compute_layers against a bare
`GROUP BY member` over the same purchases, in the same run.

    python -m bench.rfm [--members N] [--rounds R] [--rebuild]

Runs over bench.console's dataset of N members (1M by default: ~2M purchases over the last
year, one in ten refunded by half), loaded once and kept. A full run first (every member's figures
recomputed: the first run, or one after the window changes), then R daily runs, each a day later
than the one before, alternating with the baseline; it prints the median of each side and their
ratio (the issue's target: ≤ 3×), and the full run's time against the same baseline:
- the job: the figures of the members whose purchases changed or left the window (a day's worth)
  recomputed, every member scored and layered, the changed rows written, the day's counts per
  layer and tier;
- the baseline: `SELECT member_id, count(*), sum(net), max(created_at) … GROUP BY member_id`
  over the window's purchases, consumed by a count (no rows sent to the client), with the
  job's work_mem (app/layers/rfm.WORK_MEM) so that neither side spills to disk where the other does not.
Figures go to stdout and bench/results/rfm.json. Timings are never a test.
"""
import argparse
import statistics
import time
from datetime import datetime, timedelta, timezone

import time_machine

from app import create_app
from app.extensions import db
from app.layers import rfm
from bench import console, harness

BARE = """SELECT count(*) FROM (
    SELECT member_id, count(*), sum(amount_fen - refunded_fen), max(created_at) FROM purchases
    WHERE created_at >= now() - interval '365 days' AND amount_fen > refunded_fen GROUP BY member_id) s"""


def run_job(at: datetime) -> tuple[float, dict]:
    """The job as the scheduler runs it at `at`, committed: its seconds and the members per layer."""
    with time_machine.travel(at):
        started = time.perf_counter()
        counts = rfm.compute_layers()
        db.session.commit()
        return time.perf_counter() - started, counts


def run_bare(url: str) -> float:
    with harness.connect(url) as conn:
        conn.execute(f"SET work_mem = '{rfm.WORK_MEM}'")  # as the job has it: a fair baseline
        started = time.perf_counter()
        conn.execute(BARE).fetchone()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="load the dataset again even if complete")
    options = parser.parse_args()
    url = console.dataset_url(options.members)
    console.prepared(url, options.members, options.rebuild)
    with harness.connect(url) as conn:
        purchases = conn.execute("SELECT count(*) FROM purchases").fetchone()[0]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    start = datetime.now(timezone.utc)
    with app.app_context():
        with harness.connect(url) as conn:  # a new deployment's first run: no layers yet
            conn.execute("TRUNCATE member_layers, rfm_state")
        full, _ = run_job(start)
        harness.vacuum_analyze(url, "member_layers")  # as autovacuum soon would, after a run that wrote every row
        job, bare = [], []
        for day in range(1, options.rounds + 1):
            seconds, counts = run_job(start + timedelta(days=day))
            job.append(seconds)
            bare.append(run_bare(url))
    results = {
        "members": options.members, "purchases": purchases, "rounds": options.rounds, "layers": counts,
        "job_seconds": round(statistics.median(job), 3), "bare_group_by_seconds": round(statistics.median(bare), 3),
        "ratio": round(statistics.median(job) / statistics.median(bare), 2), "full_run_seconds": round(full, 3),
        "full_run_ratio": round(full / statistics.median(bare), 2), "machine": harness.machine_conditions(url),
    }
    print(f"RFM daily run: {results['job_seconds']} s · bare GROUP BY: {results['bare_group_by_seconds']} s · "
          f"ratio {results['ratio']}× (target ≤ 3×) · full run {results['full_run_seconds']} s "
          f"({results['full_run_ratio']}×) · {options.members} members, {purchases} purchases")
    print(harness.write_results("rfm", results))


if __name__ == "__main__":
    main()
