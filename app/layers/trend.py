"""What the RFM runs counted: the layers now and their trend, per tier for churn by tier."""
from datetime import date, timedelta

from sqlalchemy import func, select

from app.clock import today
from app.extensions import db
from app.layers.models import LAYERS, LayerCount


def last_run_day() -> date | None:
    """The business day of the last RFM run: every member's row is as that run left it."""
    return db.session.execute(select(func.max(LayerCount.day))).scalar_one()


def layers_now() -> dict:
    """The last run's members per layer, every layer listed."""
    day = last_run_day()
    counts = dict(db.session.execute(select(LayerCount.layer, func.sum(LayerCount.members))
                                     .where(LayerCount.day == day).group_by(LayerCount.layer)).all())
    return {"day": day, "layers": [{"layer": layer, "name": name, "members": int(counts.get(layer, 0))}
                                   for layer, name in LAYERS.items()]}


def trend(days: int, tier_id: int | None = None) -> list[LayerCount]:
    """The counts of the runs of the last `days` business days, oldest first."""
    stmt = select(LayerCount).where(LayerCount.day > today() - timedelta(days=days))
    if tier_id is not None:
        stmt = stmt.where(LayerCount.tier_id == tier_id)
    return list(db.session.execute(stmt.order_by(LayerCount.day, LayerCount.layer, LayerCount.tier_id)).scalars())
