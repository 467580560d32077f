"""the numbers at scale: facts per month (tier, store) and per day over the stores, summed from
daily_facts, so that a year-to-date page reads months and not every day's every store; today's
members counted once in a window up to the five-minute cut

Revision ID: 0022_monthly_facts
Revises: 0021_phone_last4
Create Date: 2026-12-02 22:10:00

"""
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0022_monthly_facts'
down_revision = '0021_phone_last4'
branch_labels = None
depends_on = None

KEYS = 'metric, tier_id, store_id, detail'


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def upgrade():
    op.create_table(
        'monthly_facts',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('metric', sa.String(length=24), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('detail', sa.String(length=24), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'metric', 'tier_id', 'store_id', 'detail', name=op.f('pk_monthly_facts')),
    )
    op.create_table(
        'daily_totals',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('metric', sa.String(length=24), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=False),
        sa.Column('detail', sa.String(length=24), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'metric', 'tier_id', 'detail', name=op.f('pk_daily_totals')),
    )
    op.create_table(
        'distinct_so_far',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('metric', sa.String(length=24), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=False),
        sa.Column('detail', sa.String(length=24), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'metric', 'tier_id', 'detail', name=op.f('pk_distinct_so_far')),
    )
    bind = op.get_bind()
    # Today rolled up in part has no distinct_so_far: the last two days rolled (today, and yesterday
    # if the night's run is still to come) are rolled again, and read live until then.
    latest = bind.execute(sa.text('SELECT max(day) FROM rolled_days')).scalar()
    if latest is not None:
        since = date.fromisoformat(str(latest)) - timedelta(days=1)
        bind.execute(sa.text('DELETE FROM rolled_days WHERE day >= :since'), {'since': since})
    # The days rolled up so far, summed (a month at a time: its first day is portable SQL's literal).
    op.execute('INSERT INTO daily_totals (day, metric, tier_id, detail, value) '
               'SELECT day, metric, tier_id, detail, sum(value) FROM daily_facts GROUP BY day, metric, tier_id, detail')
    first, last = bind.execute(sa.text('SELECT min(day), max(day) FROM daily_facts')).one()
    if first is None:
        return
    first, last = (date.fromisoformat(str(day)) for day in (first, last))
    month = first.replace(day=1)
    while month <= last:
        bind.execute(sa.text(
            f'INSERT INTO monthly_facts (month, {KEYS}, value) SELECT :month, {KEYS}, sum(value) FROM daily_facts '
            f'WHERE day >= :month AND day < :next GROUP BY {KEYS}'), {'month': month, 'next': _next_month(month)})
        month = _next_month(month)


def downgrade():
    op.drop_table('distinct_so_far')
    op.drop_table('daily_totals')
    op.drop_table('monthly_facts')
