"""A member's current layer (one row, replaced by each RFM run), the daily counts per layer
and tier (the trend, and churn by tier), and the segments operators define."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import now
from app.extensions import db
from app.types import BigId, UtcDateTime

HIGH_VALUE, POTENTIAL, NEW, AT_RISK, DORMANT = "high_value", "potential", "new", "at_risk", "dormant"
LAYERS = {HIGH_VALUE: "高价值", POTENTIAL: "潜力", NEW: "新客", AT_RISK: "流失预警", DORMANT: "沉睡"}


class MemberLayer(db.Model):
    """The last RFM run's view of one member (the run's day: layer_counts' latest): their figures over
    the window, kept up to date by each run for the members whose figures could have changed, and
    the scores and layer the run gave them. Scores are 1-5, None without a purchase in the window."""

    __tablename__ = "member_layers"
    __table_args__ = (Index("ix_member_layers_layer", "layer"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, autoincrement=False)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the member's created_at: new or not, from this row
    frequency: Mapped[int] = mapped_column(Integer)  # purchases in the window, fully refunded ones left out
    monetary_fen: Mapped[int] = mapped_column(BigInteger)  # their amount net of refunds
    first_purchase_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_purchase_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    r_score: Mapped[int | None] = mapped_column(Integer)
    f_score: Mapped[int | None] = mapped_column(Integer)
    m_score: Mapped[int | None] = mapped_column(Integer)
    layer: Mapped[str | None] = mapped_column(String(16))  # None only inside the run that adds the row
    since: Mapped[date] = mapped_column(Date)  # the run day the member entered this layer
    previous_layer: Mapped[str | None] = mapped_column(String(16))


class RfmState(db.Model):
    """As of when member_layers' figures hold, and over which window: the next run refreshes only the
    figures that can have changed since (one row; none before the first run)."""

    __tablename__ = "rfm_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    figures_at: Mapped[datetime] = mapped_column(UtcDateTime)
    window_days: Mapped[int] = mapped_column(Integer)


class LayerCount(db.Model):
    """Members per layer and tier as of one run day: the trend and churn by tier."""

    __tablename__ = "layer_counts"
    __table_args__ = (UniqueConstraint("day", "layer", "tier_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    layer: Mapped[str] = mapped_column(String(16))
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"))
    members: Mapped[int] = mapped_column(Integer)


class Segment(db.Model):
    """A set of members an operator names by conditions (validated JSON, see segments.py)."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    conditions: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=now)
