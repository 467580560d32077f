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

A run, in one transaction, with rfm_state's row locked (one run at a time):
1. Figures. member_layers keeps every member's figures over the window (frequency, monetary, the
   first and last purchase). A run recomputes them from the purchases only for the members whose
   figures can have changed since the last run: a purchase or a refund recorded, or the member
   joined, since then (less LATE_COMMIT, for a transaction that committed after the last run read),
   or a purchase of theirs left the window. The first run, a run after the window changes and one
   with the clock before the last run's recompute everyone's; so does the next run after rfm_state's
   row is deleted, which is what a purchase written with an earlier date around the services
   (an import) needs.
2. Bounds: each score's four quintile bounds, read once from the figures (the distinct values ranked).
3. Scores and layers, in place: one UPDATE of the rows whose scores or layer change (the bounds and
   the clock move them), keeping when the member entered the layer and the one before it. The rows
   that keep theirs (most of them from one day to the next) are not touched: no locks, no dead row
   versions, no index writes.
4. The day's counts per layer and tier (layer_counts), whose latest day is the run's.
"""
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union,
    update,
)

from app.clock import now, today
from app.db_helpers import insert_ignoring_conflict
from app.extensions import db
from app.layers.models import AT_RISK, DORMANT, HIGH_VALUE, NEW, POTENTIAL, LayerCount, MemberLayer, RfmState
from app.layers.sql import epoch_days, whole_days
from app.member_row import Member
from app.purchases.models import Purchase, Refund
from app.types import UtcDateTime

# Longer than any transaction that records a purchase, a refund or a member stays open.
LATE_COMMIT = timedelta(days=1)
# A full run hashes every member's figures: a million of them fit in this.
WORK_MEM = "256MB"
_FIGURES = ["joined_at", "frequency", "monetary_fen", "first_purchase_at", "last_purchase_at"]
# The recomputed figures, staged in a temporary table (no WAL, no index) to update the rows whose
# figures differ and add the members who have none.
_STAGED = Table("rfm_figures", MetaData(), Column("member_id", BigInteger), Column("joined_at", UtcDateTime),
                Column("frequency", Integer), Column("monetary_fen", BigInteger),
                Column("first_purchase_at", UtcDateTime), Column("last_purchase_at", UtcDateTime),
                prefixes=["TEMPORARY"])


def _previous_run(at: datetime, window_days: int) -> datetime | None:
    """When the figures last held, over this window (None: recompute everyone's); rfm_state's row
    is locked and set to this run."""
    first = insert_ignoring_conflict(RfmState, {"id": 1, "figures_at": at, "window_days": window_days}, ["id"])
    state = db.session.execute(select(RfmState).with_for_update()).scalar_one()
    previous = state.figures_at
    unusable = first or state.window_days != window_days or previous > at
    state.figures_at, state.window_days = at, window_days
    return None if unusable else previous


def _changed_since(previous: datetime, at: datetime, window: timedelta):
    """SELECT of the members whose figures can have changed since the run at `previous`."""
    since = previous - LATE_COMMIT
    return union(
        select(Purchase.member_id).where(Purchase.created_at > since),
        select(Purchase.member_id).join(Refund, Refund.purchase_id == Purchase.id).where(Refund.created_at > since),
        select(Purchase.member_id).where(Purchase.created_at >= previous - window, Purchase.created_at < at - window),
        select(Member.id).where(Member.created_at > since),
    ).cte("changed")


def _figures(at: datetime, window: timedelta, changed):
    """SELECT of the figures of the members in `changed` (of every member if None)."""
    net = Purchase.amount_fen - Purchase.refunded_fen
    bought = select(Purchase.member_id, func.count().label("frequency"),
                    cast(func.sum(net), BigInteger).label("monetary_fen"),  # integers hash faster than numeric
                    func.min(Purchase.created_at).label("first_at"), func.max(Purchase.created_at).label("last_at")
                    ).where(Purchase.created_at >= at - window, Purchase.created_at <= at, net > 0)
    if changed is not None:
        bought = bought.where(Purchase.member_id.in_(select(changed.c.member_id)))
    bought = bought.group_by(Purchase.member_id).subquery("bought")
    rows = (select(Member.id, Member.created_at, func.coalesce(bought.c.frequency, 0),
                   func.coalesce(bought.c.monetary_fen, 0), bought.c.first_at, bought.c.last_at)
            .select_from(Member).outerjoin(bought, bought.c.member_id == Member.id))
    return rows if changed is None else rows.where(Member.id.in_(select(changed.c.member_id)))


def _refresh_figures(at: datetime, window: timedelta, previous: datetime | None, day: date) -> None:
    connection = db.session.connection()
    _STAGED.drop(connection, checkfirst=True)  # left by a run that failed (SQLite keeps it)
    _STAGED.create(connection)
    changed = None if previous is None else _changed_since(previous, at, window)
    db.session.execute(insert(_STAGED).from_select([column.name for column in _STAGED.c],
                                                   _figures(at, window, changed)))
    table = MemberLayer.__table__
    db.session.execute(update(table).where(
        table.c.member_id == _STAGED.c.member_id, or_(*(table.c[name].is_distinct_from(_STAGED.c[name])
                                                        for name in _FIGURES))
    ).values(**{name: _STAGED.c[name] for name in _FIGURES}))
    db.session.execute(insert(table).from_select(  # layered by the UPDATE that follows
        ["member_id", *_FIGURES, "since"],
        select(_STAGED.c.member_id, *(_STAGED.c[name] for name in _FIGURES), literal(day))
        .where(~exists().where(table.c.member_id == _STAGED.c.member_id))))
    _STAGED.drop(connection)


def _bounds(value, edge, descending: bool = False):
    """The four quintile bounds of one score among the buyers, as values of `edge` (a buyer's score is
    1 + the bounds their edge reaches, ≥). rank() (ties shared) is 1 + the buyers before a value,
    read from the distinct values: a window over them sorts a few rows (day counts, frequencies, the
    sums people really spend) where one over the buyers would sort every buyer's row. As the rank
    grows with the value, a score is at least k + 1 from the first value whose rank makes
    5 × (rank − 1) ≥ k × buyers on."""
    order = value.desc() if descending else value
    before = cast(func.sum(func.count()).over(order_by=order, rows=(None, -1)), BigInteger)
    # (sums as integers: PostgreSQL's sum of counts is numeric)
    ranks = (select(func.min(edge).label("edge"), (1 + func.coalesce(before, 0)).label("rank"),
                    cast(func.sum(func.count()).over(), BigInteger).label("buyers"))
             .where(MemberLayer.frequency > 0).group_by(value).cte())
    return [select(func.min(ranks.c.edge)).where(5 * (ranks.c.rank - 1) >= k * ranks.c.buyers).scalar_subquery()
            for k in range(1, 5)]


def _reaches(key, bound):
    return false() if bound is None else key >= bound


def _score(key, bounds: list):
    """1 + the bounds `key` reaches (None: a bound no buyer reaches); None without a purchase."""
    reached = [(_reaches(key, bound), score) for score, bound in zip((5, 4, 3, 2), reversed(bounds))]
    return case((MemberLayer.frequency == 0, null()), *reached, else_=1)


def _rescore(at: datetime, day: date, config) -> None:
    """Score and layer every member from their figures: update the rows whose scores or layer change."""
    run_day = at.timestamp() / 86400
    last, first, frequency = MemberLayer.last_purchase_at, MemberLayer.first_purchase_at, MemberLayer.frequency
    recency = whole_days(run_day - epoch_days(last))  # the fewer whole days since, the higher the score
    bounds = db.session.execute(select(
        *_bounds(recency, last, descending=True), *_bounds(frequency, frequency),
        *_bounds(MemberLayer.monetary_fen, MemberLayer.monetary_fen))).one()
    keys = (last, frequency, MemberLayer.monetary_fen)
    by_key = [(key, list(bounds[4 * n:4 * n + 4])) for n, key in enumerate(keys)]
    joined_recently = MemberLayer.joined_at >= at - timedelta(days=config["RFM_NEW_DAYS"])
    last_day, intervals = epoch_days(last), frequency - 1
    span = last_day - epoch_days(first)
    layer = case(
        (frequency == 0, case((joined_recently, NEW), else_=DORMANT)),
        (last < at - timedelta(days=config["RFM_DORMANT_DAYS"]), DORMANT),
        (and_(frequency >= 2,  # days since the last > factor × the mean interval (≥ 1 day)
              (run_day - last_day) * intervals
              > config["RFM_AT_RISK_FACTOR"] * case((span > intervals, span), else_=intervals)), AT_RISK),
        (joined_recently, NEW),
        (and_(*(_reaches(key, key_bounds[2]) for key, key_bounds in by_key)), HIGH_VALUE),  # R, F, M ≥ 4
        else_=POTENTIAL)
    table = MemberLayer.__table__
    scored = {"r_score": _score(*by_key[0]), "f_score": _score(*by_key[1]), "m_score": _score(*by_key[2]),
              "layer": layer}
    stayed = table.c.layer == layer
    db.session.execute(update(table).where(or_(*(table.c[name].is_distinct_from(value)
                                                 for name, value in scored.items())))
                       .values(**scored, since=case((stayed, table.c.since), else_=literal(day)),
                               previous_layer=case((stayed, table.c.previous_layer), else_=table.c.layer)))


def compute_layers() -> dict:
    """Score and layer every member, then count the day's layers per tier: the counts per layer."""
    config = current_app.config
    at, day = now(), today()
    window = timedelta(days=config["RFM_WINDOW_DAYS"])
    if db.session.get_bind().dialect.name == "postgresql":  # sorts and hashes in memory; until commit
        db.session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
        db.session.execute(text("SET LOCAL jit = off"))
    previous = _previous_run(at, config["RFM_WINDOW_DAYS"])
    _refresh_figures(at, window, previous, day)
    _rescore(at, day, config)
    # Counted by a SELECT, which PostgreSQL may read in parallel (never an INSERT … SELECT), then written.
    by_tier = db.session.execute(select(MemberLayer.layer, Member.tier_id, func.count())
                                 .join(Member, Member.id == MemberLayer.member_id)
                                 .group_by(MemberLayer.layer, Member.tier_id)).all()
    db.session.execute(delete(LayerCount).where(LayerCount.day == day))
    if by_tier:
        db.session.execute(insert(LayerCount), [{"day": day, "layer": layer, "tier_id": tier_id, "members": members}
                                                for layer, tier_id, members in by_tier])
    counts = dict.fromkeys((HIGH_VALUE, POTENTIAL, NEW, AT_RISK, DORMANT), 0)
    for layer, _, members in by_tier:
        counts[layer] += members
    return counts


def entered_at_risk_today():
    """SELECT of the members this day's run moved into at_risk (for the churn recall)."""
    return select(MemberLayer.member_id).where(
        MemberLayer.layer == AT_RISK, MemberLayer.since == today(),
        func.coalesce(MemberLayer.previous_layer, "") != AT_RISK)


def layer_of(member_id: int) -> MemberLayer | None:
    return db.session.get(MemberLayer, member_id)
