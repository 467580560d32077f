"""RFM scores and the named layers, computed set-based by one scheduled job.

Over the window (RFM_WINDOW_DAYS, 365 by default, ending at the run) each member's purchases
count net of refunds: a purchase refunded in full is no purchase, and monetary is the sum of
`amount_fen - refunded_fen`. Recency is the whole days since the last such purchase (two on one
day tie), frequency their number.

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

A run stages every member's row (members with no purchase included) in a temporary table by one
INSERT … SELECT, then brings member_layers (one row per member) in line with it: one UPDATE … FROM
of the rows whose figures changed, keeping when the member entered the layer and the one before
it, and one INSERT of the members who had no row. The rows that did not change (most of them
from one day to the next) are not touched: no locks, no dead row versions, no index writes.
Then the day's counts per layer and tier (layer_counts, from the staged rows), whose latest day
is the run's.
"""
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)

from app.clock import now, today
from app.extensions import db
from app.layers.models import AT_RISK, DORMANT, HIGH_VALUE, NEW, POTENTIAL, LayerCount, MemberLayer
from app.layers.sql import epoch_days, whole_days
from app.member_row import Member
from app.purchases.models import Purchase


def _score(bought, value, name: str, descending: bool = False):
    """The quintile score of `value` among the buyers: 1 + 5 × (rank − 1) ÷ buyers, with rank() (ties
    shared) read from the distinct values: 1 + the buyers ranked before each. A window over the values
    sorts a few rows (day counts, frequencies, the sums people really spend) where rank() over the
    buyers would sort every buyer's row. As the rank grows with the value, a score is at least k + 1
    from the first value whose rank makes 5 × (rank − 1) ≥ k × buyers: four such bounds, each read
    once, and a buyer's score is 1 + the bounds it reaches (no join back)."""
    order = value.desc() if descending else value
    before = cast(func.sum(func.count()).over(order_by=order, rows=(None, -1)), BigInteger)
    # (sums as integers: PostgreSQL's sum of counts is numeric)
    ranks = select(value.label("value"), (1 + func.coalesce(before, 0)).label("rank"),
                   cast(func.sum(func.count()).over(), BigInteger).label("buyers")
                   ).select_from(bought).group_by(value).cte(name)
    first = func.max if descending else func.min
    reached = []
    for k in range(1, 5):
        bound = (select(first(ranks.c.value)).where(5 * (ranks.c.rank - 1) >= k * ranks.c.buyers)
                 .scalar_subquery())
        reached.append(case((value <= bound if descending else value >= bound, 1), else_=0))
    return 1 + sum(reached[1:], reached[0])


def _classified(at, window_days: int, new_days: int, dormant_days: int, at_risk_factor: float):
    """SELECT of every member's row as of `at`."""
    run_day = at.timestamp() / 86400
    net = Purchase.amount_fen - Purchase.refunded_fen
    last_day = epoch_days(func.max(Purchase.created_at))
    bought = (select(Purchase.member_id.label("member_id"), func.count().label("frequency"),
                     cast(func.sum(net), BigInteger).label("monetary_fen"),  # integers hash faster than numeric
                     func.max(Purchase.created_at).label("last_at"),
                     epoch_days(func.min(Purchase.created_at)).label("first_day"), last_day.label("last_day"),
                     whole_days(run_day - last_day).label("days_since"))
              .where(Purchase.created_at >= at - timedelta(days=window_days), Purchase.created_at <= at, net > 0)
              .group_by(Purchase.member_id).cte("bought"))
    ranked = select(
        bought,  # recency: the fewer whole days since the last purchase, the higher the score
        _score(bought, bought.c.days_since, "recency", descending=True).label("r"),
        _score(bought, bought.c.frequency, "frequencies").label("f"),
        _score(bought, bought.c.monetary_fen, "monetary").label("m")).cte("ranked")
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
    return (select(Member.id, Member.tier_id, func.coalesce(ranked.c.frequency, 0),
                   func.coalesce(ranked.c.monetary_fen, 0), ranked.c.last_at, ranked.c.r, ranked.c.f, ranked.c.m,
                   layer)
            .select_from(Member).outerjoin(ranked, ranked.c.member_id == Member.id))


# A run hashes every buyer (their figures, their ranks) and every member: a million of them fit in this.
WORK_MEM = "256MB"
_SCORED = ["frequency", "monetary_fen", "last_purchase_at", "r_score", "f_score", "m_score", "layer"]
# The run's rows, staged in a temporary table (no WAL, no index): compared with member_layers in one
# hash join, so that only the rows that changed are written (an upsert would lock every row).
_RUN = Table("rfm_run", MetaData(), Column("member_id", BigInteger), Column("tier_id", Integer),
             *(column.copy() for column in MemberLayer.__table__.c if column.name in _SCORED),
             prefixes=["TEMPORARY"])


def _stage(select_rows) -> None:
    connection = db.session.connection()
    _RUN.drop(connection, checkfirst=True)  # left by a run that failed (SQLite keeps it)
    _RUN.create(connection)
    db.session.execute(insert(_RUN).from_select([column.name for column in _RUN.c], select_rows))


def _write(day: date) -> None:
    """Update the rows whose figures changed (keeping when the member entered the layer and the one
    before it), then add the members who have none."""
    table = MemberLayer.__table__
    stayed = table.c.layer == _RUN.c.layer
    db.session.execute(update(table).where(
        table.c.member_id == _RUN.c.member_id, or_(*(table.c[name].is_distinct_from(_RUN.c[name]) for name in _SCORED))
    ).values(**{name: _RUN.c[name] for name in _SCORED},
             since=case((stayed, table.c.since), else_=literal(day)),
             previous_layer=case((stayed, table.c.previous_layer), else_=table.c.layer)))
    db.session.execute(insert(table).from_select(
        ["member_id", *_SCORED, "since", "previous_layer"],
        select(_RUN.c.member_id, *(_RUN.c[name] for name in _SCORED), literal(day), literal(None, String))
        .where(~exists().where(table.c.member_id == _RUN.c.member_id))))


def compute_layers() -> dict:
    """Score and layer every member, then count the day's layers per tier: the counts per layer."""
    config = current_app.config
    select_rows = _classified(now(), config["RFM_WINDOW_DAYS"], config["RFM_NEW_DAYS"],
                              config["RFM_DORMANT_DAYS"], config["RFM_AT_RISK_FACTOR"])
    if db.session.get_bind().dialect.name == "postgresql":  # sorts and hashes in memory; until commit
        db.session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    day = today()
    _stage(select_rows)
    _write(day)
    db.session.execute(delete(LayerCount).where(LayerCount.day == day))
    db.session.execute(insert(LayerCount).from_select(
        ["day", "layer", "tier_id", "members"],
        select(literal(day), _RUN.c.layer, _RUN.c.tier_id, func.count()).group_by(_RUN.c.layer, _RUN.c.tier_id)))
    _RUN.drop(db.session.connection())
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
