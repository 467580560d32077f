"""Benchmark of issue 3: the member card GET against a bare endpoint of the same app.

    python -m bench.card_read [--members N] [--rounds R] [--seconds S] [--workers W]

Recreates the PostgreSQL database $BENCH_DATABASE_URL (default membermall_bench),
migrates it, loads 100k members with their ledgers (bench/dataset.py), mints member
tokens for random members, serves the app with gunicorn and loads it with wrk on
127.0.0.1. The card and the baseline (one primary-key SELECT behind the same token
check, bench/baseline.py; gunicorn serves bench/wsgi_bench.py, the app with it) run in
alternating rounds of the same run (bare, card, card, bare, ...), so the ratio holds on
a noisy machine; the target is the card at ≥ 60 % of the baseline's requests/s.
Figures go to stdout and bench/results/card_read.json.

Load shape, for this 2-CPU machine where PostgreSQL and wrk share the CPUs with the
app: 3 sync gunicorn workers (CPU-bound Python: two keep both CPUs busy, the third
covers the time a worker waits on PostgreSQL; more would only add context switches),
and wrk with one thread and 6 connections, two per worker, so each worker always has
the next request queued and latency still measures the service, not a long queue.
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench import dataset, harness

CARD = "/api/v1/member/card"
BARE = "/api/v1/bench/member/bare"
TARGET = 0.60
TOKENS = 20_000
WORKERS = 3
CONNECTIONS = 6
WARMUP_SECONDS = 3


def check_endpoints(base_url: str, token: str) -> None:
    """Both endpoints answer 200 with what they promise, and the baseline needs the token."""
    status, card = harness.get_json(base_url + CARD, token)
    if status != 200 or "next_expiry" not in card.get("points", {}):
        raise RuntimeError(f"card answered {status}: {card}")
    status, bare = harness.get_json(base_url + BARE, token)
    if status != 200 or bare.get("member_id") != card["member_id"]:
        raise RuntimeError(f"bare endpoint answered {status}: {bare}")
    status, _ = harness.get_json(base_url + BARE, "forged")
    if status != 401:
        raise RuntimeError(f"bare endpoint without a valid token answered {status}, not 401")


def measure(base_url: str, tokens: Path, rounds: int, seconds: int) -> dict[str, list[dict]]:
    """Alternate the endpoints (ABBA...) so drift in the machine's load hits both alike."""
    env = {"BENCH_TOKENS": str(tokens)}
    for path in (BARE, CARD):
        harness.wrk(base_url + path, ["member_tokens.lua"], WARMUP_SECONDS, CONNECTIONS, env=env)
    runs: dict[str, list[dict]] = {CARD: [], BARE: []}
    for round_no in range(rounds):
        for path in (BARE, CARD) if round_no % 2 == 0 else (CARD, BARE):
            figures = harness.wrk(base_url + path, ["member_tokens.lua"], seconds, CONNECTIONS, env=env)
            if figures["non_2xx"] or figures["socket_errors"]:
                raise RuntimeError(f"{path}: {figures['non_2xx']} non-2xx replies, "
                                   f"{figures['socket_errors']} socket errors")
            runs[path].append(figures)
            print(f"  round {round_no + 1} {path:28} {figures['requests_per_s']:8.1f} req/s  "
                  f"p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms", flush=True)
    return runs


def summarize(runs: list[dict]) -> dict:
    """Throughput over all rounds; latency percentiles as the median of the rounds'."""
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["requests"] / run["requests_per_s"] for run in runs)
    return {
        "requests": requests,
        "requests_per_s": round(requests / seconds, 1),
        "p50_ms": round(statistics.median(run["p50_ms"] for run in runs), 2),
        "p99_ms": round(statistics.median(run["p99_ms"] for run in runs), 2),
        "rounds": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    # Many short rounds: the load of other processes changes within seconds on a shared machine.
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=3, help="per endpoint and round")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn sync workers")
    args = parser.parse_args()
    harness.stop_on_sigterm()
    harness.ensure_command("wrk", "wrk")

    started = time.monotonic()
    harness.recreate_database()
    harness.migrate()
    counts = dataset.load(harness.DATABASE_URL, args.members)
    harness.vacuum_analyze()
    setup_seconds = time.monotonic() - started
    print(f"card_read: database ready in {setup_seconds:.0f} s: {counts}", flush=True)

    conditions_before = harness.machine_conditions()
    env = {"DATABASE_URL": harness.DATABASE_URL, "REDIS_URL": harness.REDIS_URL, "SECRET_KEY": harness.SECRET_KEY,
           "MEMBERMALL_ENV": "production", "WECHAT_APPID": "wx-bench", "WECHAT_SECRET": "bench"}
    with tempfile.TemporaryDirectory() as scratch:
        tokens = harness.mint_tokens(Path(scratch) / "tokens.txt", args.members, TOKENS)
        with harness.gunicorn(env, workers=args.workers, log_name="card_read-gunicorn",
                              app="bench.wsgi_bench:app") as base_url:
            check_endpoints(base_url, tokens.read_text().split("\n", 1)[0])
            runs = measure(base_url, tokens, args.rounds, args.seconds)

    card, bare = summarize(runs[CARD]), summarize(runs[BARE])
    ratio = card["requests_per_s"] / bare["requests_per_s"]
    round_ratios = [c["requests_per_s"] / b["requests_per_s"] for c, b in zip(runs[CARD], runs[BARE])]
    results = {
        "benchmark": "card_read",
        "members": args.members, "rounds": args.rounds, "seconds_per_round": args.seconds,
        "server": {"gunicorn_workers": args.workers, "worker_class": "sync"},
        "load": {"tool": "wrk", "threads": 1, "connections": CONNECTIONS, "distinct_member_tokens": TOKENS},
        "card": {"path": CARD, **card},
        "bare": {"path": BARE, **bare},
        "ratio": round(ratio, 3),
        "round_ratios": [round(r, 3) for r in round_ratios],
        "median_round_ratio": round(statistics.median(round_ratios), 3),
        "target": TARGET,
        "meets_target": ratio >= TARGET,
        "machine_before": conditions_before,
        "machine_after": harness.machine_conditions(),
        "setup_seconds": round(setup_seconds, 1),
        "total_seconds": round(time.monotonic() - started, 1),
    }
    path = harness.write_results("card_read", results)
    print(f"\n{'endpoint':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, figures in (("card", card), ("bare", bare)):
        print(f"{name + ' ' + results[name]['path']:34} "
              f"{figures['requests_per_s']:9.1f} {figures['p50_ms']:8.2f} {figures['p99_ms']:8.2f}")
    print(f"card / bare = {ratio:.0%} (median of rounds {statistics.median(round_ratios):.0%}: "
          f"{', '.join(f'{r:.0%}' for r in round_ratios)}); "
          f"target ≥ {TARGET:.0%}: {'met' if results['meets_target'] else 'NOT met'}")
    print(f"machine: {conditions_before['cpus']} CPUs ({conditions_before['cpu_model']}), load average "
          f"{conditions_before['load_average_1_5_15'][0]} before, {results['machine_after']['load_average_1_5_15'][0]}"
          f" after; results in {path.relative_to(harness.ROOT)}")


if __name__ == "__main__":
    main()
