"""Benchmark of issue 14 (the numbers): the dashboard, the tier page and the member search at two sizes.

    python -m bench.console [--small 10000] [--large 1000000] [--requests 200] [--rebuild] [--load-only]

Each size has a database of its own ($BENCH_DATABASE_URL with the size appended), kept between
runs: it is reused when its marker (table bench_dataset) says its load completed, loaded anew
otherwise or with --rebuild. A load: the members with their ledgers (bench/dataset.py) and 1–3
purchases each over the last year (one in ten refunded by half; a points and a growth entry
apiece: about 10 ledger entries a member, 10M at 1M members), half of them attributed to one
of 20 stores. Each run times the rollup job over the days not rolled up yet (all of them after
a load), rolls up today so far as the five-minute job does, then times the pages in this
process (the Flask test client, the request's own work: token check, rollups read, the last
minutes live, the JSON written): p50 and p95 over `--requests` requests of each dashboard
preset, the tier page and the admin member search by full phone, a phone's last 4 digits,
nickname, member id and card code (a different member each request). The target: p95 at the
large size ≤ 1.5 × the small. Figures go to stdout and bench/results/console.json.
"""
import argparse
import os
import random
import statistics
import time

os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/membermall_bench_console")

import psycopg  # noqa: E402
from psycopg.types.json import Json  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.operators.models import Operator  # noqa: E402
from app.security import ADMIN, issue_token  # noqa: E402
from app.tasks import jobs  # noqa: E402
from bench import dataset, harness  # noqa: E402


def _phone(member_id: int) -> str:
    """bench/dataset.py's phone of a member whose id ends in 0-6."""
    return f"13{member_id * 7919 % 1_000_000_000:09d}"


SEARCH = "/api/v1/admin/members?q="
# Each page's path for a member picked at random (the search looks that member up).
PAGES = {
    **{f"dashboard {preset}": (lambda _, preset=preset: f"/api/v1/admin/dashboard?preset={preset}")
       for preset in ("7d", "30d", "ytd")},
    "tier page 30d": lambda _: "/api/v1/admin/tiers/numbers?preset=30d",
    "search: phone": lambda member_id: SEARCH + _phone(member_id),
    "search: phone's last 4": lambda member_id: SEARCH + _phone(member_id)[-4:],
    "search: nickname": lambda member_id: SEARCH + f"会员{member_id}",
    "search: member id": lambda member_id: SEARCH + str(member_id),
    "search: card code": lambda member_id: SEARCH + f"9{member_id:015d}",
}
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
       SELECT id, store_id, member_id, store_id, 'B' || id, amount_fen,
              CASE WHEN id %% 10 = 0 THEN amount_fen / 2 ELSE 0 END, amount_fen / 100, amount_fen / 100,
              created_at FROM bench_purchases""",
    # One purchase in ten refunded by half, a day later (or now, if that is still to come).
    """INSERT INTO refunds (purchase_id, refund_no, staff_id, amount_fen, points_reversed, growth_reversed, created_at)
       SELECT id, 'R' || id, store_id, amount_fen / 2, amount_fen / 200, amount_fen / 200,
              least(created_at + interval '1 day', now()) FROM bench_purchases WHERE id %% 10 = 0""",
    """INSERT INTO ledger_entries (member_id, account, delta, kind, ref, idempotency_key, created_at)
       SELECT member_id, account, amount_fen / 100, 'purchase', 'purchase:' || id,
              'purchase:' || id || ':' || account, created_at
       FROM bench_purchases CROSS JOIN (VALUES ('points'), ('growth')) a(account)""",
    "SELECT setval(pg_get_serial_sequence('purchases', 'id'), (SELECT max(id) FROM purchases))",
]


def dataset_url(members: int) -> str:
    """The database of the dataset of `members` members: $BENCH_DATABASE_URL with the size appended."""
    base = make_url(os.environ["BENCH_DATABASE_URL"])
    return base.set(database=f"{base.database}_{members}").render_as_string(hide_password=False)


def _marked(url: str, members: int) -> dict | None:
    """The counts of a complete dataset of `members` members in the database, None if there is none."""
    try:
        with harness.connect(url) as conn:
            row = conn.execute("SELECT counts FROM bench_dataset WHERE members = %s", [members]).fetchone()
    except psycopg.Error:  # no such database, or no marker table: the load never finished
        return None
    return row and row[0]


def load(url: str, members: int) -> dict:
    """A new database of `members` members with a year of purchases; marked complete at the end."""
    harness.recreate_database(url)
    harness.migrate(url)
    counts = dataset.load(url, members)
    with harness.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET session_replication_role = replica")
        for step in _PURCHASES:
            conn.execute(step, {"stores": STORES})
        counts["purchases"] = conn.execute("SELECT count(*) FROM purchases").fetchone()[0]
        counts["refunds"] = conn.execute("SELECT count(*) FROM refunds").fetchone()[0]
        counts["ledger_entries"] = conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0]
    harness.vacuum_analyze(url)
    with harness.connect(url) as conn:
        conn.execute("CREATE TABLE bench_dataset (members int PRIMARY KEY, counts jsonb, loaded_at timestamptz)")
        conn.execute("INSERT INTO bench_dataset VALUES (%s, %s, now())", [members, Json(counts)])
    return counts


def prepared(url: str, members: int, rebuild: bool) -> dict:
    """The dataset of `members` members: the one kept from an earlier run if complete, else loaded."""
    counts = None if rebuild else _marked(url, members)
    if counts is None:
        print(f"loading {members:,} members", flush=True)
        return load(url, members)
    print(f"reusing {members:,} members ({url.rsplit('/', 1)[1]})", flush=True)
    harness.migrate(url)  # migrations added since it was loaded
    return counts


def percentile(samples: list[float], share: float) -> float:
    return round(sorted(samples)[min(len(samples) - 1, int(len(samples) * share))] * 1000, 1)


def roll_up(app) -> dict:
    """The rollup job over the days not rolled up yet (every day of a new dataset), timed."""
    with app.app_context():
        started = time.perf_counter()
        counts = jobs.roll_up_numbers()
    return {"seconds": round(time.perf_counter() - started, 1), **counts}


def measure(url: str, members: int, requests: int) -> dict:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": harness.SECRET_KEY})
    rolled = roll_up(app)
    with app.app_context():
        rolled["today_facts"] = jobs.roll_up_today()["facts"]  # as every five minutes
        operator = db.session.execute(select(Operator).filter_by(username="bench")).scalar_one_or_none()
        if operator is None:
            operator = Operator(username="bench", name="bench", password_hash="x")
            db.session.add(operator)
            db.session.commit()
        token = issue_token(harness.SECRET_KEY, ADMIN, operator.id)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    picked = random.Random(members)  # the same members on every run of a size
    pages = {}
    for name, path_of in PAGES.items():
        samples = []
        for _ in range(requests + 1):  # the first warms up, untimed
            path = path_of(picked.randrange(1, members // 10) * 10 + picked.randrange(7))  # ids ending 0-6 have phones
            started = time.perf_counter()
            reply = client.get(path, headers=headers)
            samples.append(time.perf_counter() - started)
            if reply.status_code != 200 or (name.startswith("search") and not reply.json["items"]):
                raise RuntimeError(f"{path} answered {reply.status_code}: {reply.get_data(as_text=True)[:500]}")
        timed = samples[1:]
        pages[name] = {"p50_ms": round(statistics.median(timed) * 1000, 1), "p95_ms": percentile(timed, 0.95)}
    return {"rollup": rolled, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)  # a p95 of 40 is the 2nd worst: noise
    parser.add_argument("--load-only", action="store_true", help="prepare the datasets and roll them up, no pages")
    parser.add_argument("--rebuild", action="store_true", help="load the datasets again even if complete")
    args = parser.parse_args()
    harness.stop_on_sigterm()
    results: dict = {"load_average_1_5_15": [round(load, 2) for load in os.getloadavg()]}
    for size in (args.small, args.large):
        url = dataset_url(size)
        results[size] = {"data": prepared(url, size, args.rebuild)}
        if args.load_only:
            print(roll_up(create_app({"SQLALCHEMY_DATABASE_URI": url})), flush=True)
            continue
        results[size] |= measure(url, size, args.requests)
        print(results[size], flush=True)
    if args.load_only:
        return
    ratios = {page: round(results[args.large]["pages"][page]["p95_ms"] / results[args.small]["pages"][page]["p95_ms"],
                          2) for page in PAGES}
    results["p95_ratio"] = ratios
    for page in PAGES:
        small, large = results[args.small]["pages"][page], results[args.large]["pages"][page]
        print(f"{page}: p50/p95 {small['p50_ms']}/{small['p95_ms']} ms at {args.small:,}, "
              f"{large['p50_ms']}/{large['p95_ms']} ms at {args.large:,}: p95 {ratios[page]}× (target ≤ {TARGET}×)")
    print(harness.write_results("console", {str(key): value for key, value in results.items()}))


if __name__ == "__main__":
    main()
