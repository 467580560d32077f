"""RFM scores and the named layers, computed set-based by one scheduled job.

Over the window (RFM_WINDOW_DAYS, 365 by default, ending at the run) each member's purchases
count net of refunds: a purchase refunded in full is no purchase, and monetary is the sum of
`amount_fen - refunded_fen`. Recency is the last such purchase, frequency their number.

Scores are quintiles, 1-5, of the members who bought in the window, 5 the best (most
recent, most frequent, most spent): score = 1 + 5 × (rank − 1) ÷ buyers, in integers, with
rank() ascending. That is NTILE(5) with ties kept together: NTILE would give two members
with the same single purchase different F scores depending on their ids.

The layer is the first of these that holds (each a question an operator acts on):
1. 沉睡 dormant: no purchase for RFM_DORMANT_DAYS (180), or none in the window at all,
   unless the member joined within RFM_NEW_DAYS (then 新客 new). Recall is the only move.
2. 流失预警 at_risk: at least two purchases and the time since the last is more than
   RFM_AT_RISK_FACTOR (2) times their own mean interval (last − first) ÷ (n − 1), taken as
   at least a day. Their own rhythm, not a fixed number of days: a weekly buyer silent for
   three weeks is at risk long before a twice-a-year buyer silent for three months.
3. 新客 new: joined within RFM_NEW_DAYS: too early to judge.
4. 高价值 high_value: R, F and M all ≥ 4: the top of the pyramid, to keep.
5. 潜力 potential: everyone else buying on their rhythm: room to grow.

A run replaces every member's row (member_layers: one per member, members with no purchase
included) in one INSERT … SELECT … ON CONFLICT DO UPDATE, which keeps when the member entered
the layer and the one before it, and leaves alone the rows whose figures did not change (most
of them from one day to the next: no dead row versions, no index writes); then the day's
counts per layer and tier (layer_counts), whose latest day is the run's.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import BigInteger, String, and_, case, cast, delete, func, insert, literal, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app.clock import now, today
from app.extensions import db
from app.layers.models import AT_RISK, DORMANT, HIGH_VALUE, NEW, POTENTIAL, LayerCount, MemberLayer
from app.layers.sql import epoch_days
from app.member_row import Member
from app.purchases.models import Purchase


def _score(rank_column, buyers):
    return 1 + 5 * (rank_column - 1) // buyers


def _classified(at, window_days: int, new_days: int, dormant_days: int, at_risk_factor: float):
    """SELECT of every member's row as of `at`."""
    net = Purchase.amount_fen - Purchase.refunded_fen
    bought = (select(Purchase.member_id.label("member_id"), func.count().label("frequency"),
                     func.sum(net).label("monetary_fen"), func.max(Purchase.created_at).label("last_at"),
                     epoch_days(func.min(Purchase.created_at)).label("first_day"),
                     epoch_days(func.max(Purchase.created_at)).label("last_day"))
              .where(Purchase.created_at >= at - timedelta(days=window_days), Purchase.created_at <= at, net > 0)
              .group_by(Purchase.member_id).cte("bought"))
    # F's rank from the few distinct frequencies (a rank() over them would re-read its huge peer
    # groups): 1 + the buyers with fewer purchases; and the buyers' number, summed once here.
    # (sums as integers: PostgreSQL's sum of counts is numeric, and the scores divide in integers)
    fewer = cast(func.sum(func.count()).over(order_by=bought.c.frequency, rows=(None, -1)), BigInteger)
    frequencies = select(bought.c.frequency, (1 + func.coalesce(fewer, 0)).label("rank"),
                         cast(func.sum(func.count()).over(), BigInteger).label("buyers")
                         ).group_by(bought.c.frequency).cte("frequencies")
    buyers = frequencies.c.buyers
    ranked = select(
        bought, _score(func.rank().over(order_by=bought.c.last_day), buyers).label("r"),
        _score(frequencies.c.rank, buyers).label("f"),
        _score(func.rank().over(order_by=bought.c.monetary_fen), buyers).label("m"),
    ).join_from(bought, frequencies, frequencies.c.frequency == bought.c.frequency).cte("ranked")
    run_day = at.timestamp() / 86400
    joined_recently = Member.created_at >= at - timedelta(days=new_days)
    span = ranked.c.last_day - ranked.c.first_day
    intervals = ranked.c.frequency - 1
    layer = case(
        (ranked.c.member_id.is_(None), case((joined_recently, NEW), else_=DORMANT)),
        (ranked.c.last_day < run_day - dormant_days, DORMANT),
        (and_(ranked.c.frequency >= 2,  # days since the last > factor × the mean interval (≥ 1 day)
              (run_day - ranked.c.last_day) * intervals
              > at_risk_factor * case((span > intervals, span), else_=intervals)), AT_RISK),
        (joined_recently, NEW),
        (and_(ranked.c.r >= 4, ranked.c.f >= 4, ranked.c.m >= 4), HIGH_VALUE),
        else_=POTENTIAL)
    return (select(Member.id, func.coalesce(ranked.c.frequency, 0),
                   func.coalesce(ranked.c.monetary_fen, 0), ranked.c.last_at, ranked.c.r, ranked.c.f, ranked.c.m,
                   layer, literal(today()), literal(None, String))
            .select_from(Member).outerjoin(ranked, ranked.c.member_id == Member.id)
            .where(Member.id > 0))  # SQLite reads ON CONFLICT after a join only past a WHERE


# A run sorts every buyer twice (R and M) and hashes every member: a million of them fit in this.
WORK_MEM = "128MB"
_COLUMNS = ["member_id", "frequency", "monetary_fen", "last_purchase_at", "r_score", "f_score",
            "m_score", "layer", "since", "previous_layer"]


def compute_layers() -> dict:
    """Score and layer every member, then count the day's layers per tier: the counts per layer."""
    config = current_app.config
    select_rows = _classified(now(), config["RFM_WINDOW_DAYS"], config["RFM_NEW_DAYS"],
                              config["RFM_DORMANT_DAYS"], config["RFM_AT_RISK_FACTOR"])
    table = MemberLayer.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    if dialect is postgresql:  # the run's sorts and hashes in memory, not spilled to disk; until commit
        db.session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    upsert = dialect.insert(MemberLayer).from_select(_COLUMNS, select_rows)
    stayed = table.c.layer == upsert.excluded.layer
    scored = _COLUMNS[1:8]  # what the run computes; since and previous_layer follow from the layer
    upsert = upsert.on_conflict_do_update(index_elements=["member_id"], set_={
        **{name: upsert.excluded[name] for name in scored},
        "since": case((stayed, table.c.since), else_=upsert.excluded.since),
        "previous_layer": case((stayed, table.c.previous_layer), else_=table.c.layer),
    }, where=or_(*(table.c[name].is_distinct_from(upsert.excluded[name]) for name in scored)))
    db.session.execute(upsert)
    day = today()
    db.session.execute(delete(LayerCount).where(LayerCount.day == day))
    db.session.execute(insert(LayerCount).from_select(
        ["day", "layer", "tier_id", "members"],
        select(literal(day), MemberLayer.layer, Member.tier_id, func.count())
        .join(Member, Member.id == MemberLayer.member_id).group_by(MemberLayer.layer, Member.tier_id)))
    counts = dict(db.session.execute(
        select(LayerCount.layer, func.sum(LayerCount.members)).where(LayerCount.day == day)
        .group_by(LayerCount.layer)).all())
    return {layer: int(counts.get(layer, 0)) for layer in (HIGH_VALUE, POTENTIAL, NEW, AT_RISK, DORMANT)}


def entered_at_risk_today():
    """SELECT of the members this day's run moved into at_risk (for the churn recall)."""
    return select(MemberLayer.member_id).where(
        MemberLayer.layer == AT_RISK, MemberLayer.since == today(),
        func.coalesce(MemberLayer.previous_layer, "") != AT_RISK)


def layer_of(member_id: int) -> MemberLayer | None:
    return db.session.get(MemberLayer, member_id)
