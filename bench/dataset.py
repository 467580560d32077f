"""A realistic member base loaded with set-based SQL (seconds for 100k members, not minutes).
Seven in ten members have a phone (distinct, 13 and nine digits), each a card number and a nickname.

Tiers are the demo tiers. Growth follows a pyramid (about 77 % 普通, 17 % 银卡, 4 % 金卡,
1.5 % 钻石) and each member's tier is the one their growth earns. Each member has 1–8
points lots with expiry dates from a year ago to two years ahead; one spend per member
consumed lots earliest-expiry first (all lots already past their date, and part of the
rest), so spent lots sit beside open ones as in a ledger that has lived. The ledger
agrees with itself as the app's invariants demand: for every member,
points_balance = Σ points entries = Σ open lots, growth = Σ growth entries, and each
spend's lot_consumptions add up to it. Each member also holds 0–4 coupons of one
template, granted over the last 45 days and valid for 30 (about a third already expired).
"""
from psycopg import Connection
from psycopg.types.json import Json

from app.demo import TIERS
from bench.harness import connect

_STEPS = [
    # Growth ~ Pareto: P(growth > x) = 300 / (x + 300).
    """CREATE TEMP TABLE bench_members ON COMMIT DROP AS
       SELECT g AS id, least(floor(300 / (random() + 1e-9))::bigint - 300, 10000000) AS growth
       FROM generate_series(1, %(members)s) g""",
    """CREATE TEMP TABLE bench_raw_lots ON COMMIT DROP AS
       SELECT m.id AS member_id, n, (100 + floor(random() * 1900))::bigint AS amount,
              current_date - 365 + floor(random() * 1096)::int AS expires_on
       FROM bench_members m CROSS JOIN LATERAL generate_series(1, 1 + m.id %% 8) n""",
    # Spent: every lot already past its date, plus up to 60 % of the rest.
    """CREATE TEMP TABLE bench_spends ON COMMIT DROP AS
       SELECT member_id,
              coalesce(sum(amount) FILTER (WHERE expires_on < current_date), 0)
              + floor(random() * 0.6 * coalesce(sum(amount) FILTER (WHERE expires_on >= current_date), 0))::bigint
              AS spent
       FROM bench_raw_lots GROUP BY member_id""",
    # Earliest expiry first: a lot keeps what the spend did not reach of it.
    """CREATE TEMP TABLE bench_lots ON COMMIT DROP AS
       SELECT row_number() OVER (ORDER BY r.member_id, r.n) AS id, r.member_id, r.amount, r.expires_on,
              greatest(0, least(r.amount, sum(r.amount) OVER fifo - s.spent)) AS remaining
       FROM bench_raw_lots r JOIN bench_spends s USING (member_id)
       WINDOW fifo AS (PARTITION BY r.member_id ORDER BY r.expires_on, r.n ROWS UNBOUNDED PRECEDING)""",
    # Seven in ten members gave a phone: 13 and nine digits, distinct (7919 is prime to 10^9).
    """INSERT INTO members (id, openid, card_no, phone, nickname, gender, tier_id, tier_since, growth,
                           points_balance, code_secret, created_at)
       SELECT m.id, 'bench-openid-' || m.id, '9' || lpad(m.id::text, 15, '0'),
              CASE WHEN m.id %% 10 < 7 THEN '13' || lpad(((m.id::bigint * 7919) %% 1000000000)::text, 9, '0') END,
              '会员' || m.id, 'unknown',
              (SELECT t.id FROM tiers t WHERE t.growth_threshold <= m.growth ORDER BY t.level DESC LIMIT 1),
              now(), m.growth, b.balance,
              md5(m.id::text) || left(md5('secret' || m.id), 8), now() - (m.id %% 700) * interval '1 day'
       FROM bench_members m
       JOIN (SELECT member_id, sum(remaining) AS balance FROM bench_lots GROUP BY member_id) b
         ON b.member_id = m.id""",
    # Entry ids: credits share their lot's id, then one spend and one growth entry per member.
    """INSERT INTO ledger_entries (id, member_id, account, delta, kind, ref, idempotency_key, created_at)
       SELECT id, member_id, 'points', amount, 'purchase', 'bench', 'bench:credit:' || id,
              now() - interval '400 days'
       FROM bench_lots""",
    """INSERT INTO point_lots (id, member_id, entry_id, amount, remaining, expires_on)
       SELECT id, member_id, id, amount, remaining, expires_on FROM bench_lots""",
    """CREATE TEMP TABLE bench_spend_entries ON COMMIT DROP AS
       SELECT (SELECT max(id) FROM bench_lots) + row_number() OVER (ORDER BY member_id) AS id, member_id, spent
       FROM bench_spends WHERE spent > 0""",
    """INSERT INTO ledger_entries (id, member_id, account, delta, kind, ref, idempotency_key, created_at)
       SELECT id, member_id, 'points', -spent, 'redeem', 'bench', 'bench:spend:' || member_id,
              now() - interval '30 days'
       FROM bench_spend_entries""",
    """INSERT INTO lot_consumptions (id, entry_id, lot_id, amount)
       SELECT row_number() OVER (ORDER BY l.id), e.id, l.id, l.amount - l.remaining
       FROM bench_lots l JOIN bench_spend_entries e USING (member_id)
       WHERE l.remaining < l.amount""",
    """INSERT INTO ledger_entries (id, member_id, account, delta, kind, ref, idempotency_key, created_at)
       SELECT (SELECT max(id) FROM ledger_entries) + row_number() OVER (ORDER BY id), id, 'growth', growth,
              'purchase', 'bench', 'bench:growth:' || id, now() - interval '400 days'
       FROM bench_members WHERE growth > 0""",
    """INSERT INTO coupon_templates (id, name, kind, amount_off_fen, threshold_fen, valid_days, issued_count,
                                    active, created_at)
       VALUES (1, '满100减10', 'threshold_off', 1000, 10000, 30, 0, true, now() - interval '60 days')""",
    """INSERT INTO coupons (id, code, template_id, member_id, member_seq, state, valid_from, valid_until, source,
                           issued_at)
       SELECT row_number() OVER (ORDER BY member_id, n) AS id, 'B' || lpad(member_id::text, 10, '0') || n, 1,
              member_id, n, CASE WHEN granted + interval '30 days' <= now() THEN 'expired' ELSE 'issued' END,
              granted, granted + interval '30 days', 'grant', granted
       FROM (SELECT m.id AS member_id, n, now() - floor(random() * 45) * interval '1 day' AS granted
             FROM bench_members m CROSS JOIN LATERAL generate_series(1, m.id %% 5) n) c""",
    "UPDATE coupon_templates SET issued_count = (SELECT count(*) FROM coupons) WHERE id = 1",
]

_SEQUENCED = ("tiers", "members", "ledger_entries", "point_lots", "lot_consumptions", "coupon_templates", "coupons")


def load_tiers(conn: Connection) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO tiers (level, name, growth_threshold, points_multiplier_pct, benefits)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(level, name, threshold, multiplier, Json(benefits))
             for level, name, threshold, multiplier, benefits in TIERS])


def load_members(conn: Connection, members: int, seed: float = 0.42) -> dict:
    """Load `members` members with their ledgers in the connection's transaction; counts per table."""
    conn.execute("SELECT setseed(%s)", [seed])  # the same data on every run
    for step in _STEPS:
        conn.execute(step, {"members": members})
    for table in _SEQUENCED:  # explicit ids were inserted: move the sequences past them
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in _SEQUENCED}


def load(url: str, members: int) -> dict:
    """Tiers and `members` members in one transaction."""
    with connect(url) as conn:
        conn.execute("SET synchronous_commit = off")  # a bulk load, not business writes
        # No per-row foreign-key triggers: the rows are consistent by construction (halves the load).
        conn.execute("SET session_replication_role = replica")
        load_tiers(conn)
        return load_members(conn, members)
