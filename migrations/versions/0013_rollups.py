"""daily rollups for the operators' numbers: facts per day, tier and store, end-of-day snapshots,
the days rolled up; and the time indexes that one day of each table is read through

Revision ID: 0013_rollups
Revises: 0011_merge
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013_rollups'
down_revision = '0011_merge'
branch_labels = None
depends_on = None

TIME_INDEXES = (
    ('members', 'ix_members_created_at', 'created_at'),
    ('purchases', 'ix_purchases_created_at', 'created_at'),
    ('refunds', 'ix_refunds_created_at', 'created_at'),
    ('ledger_entries', 'ix_ledger_entries_created_at', 'created_at'),
    ('coupons', 'ix_coupons_issued_at', 'issued_at'),
    ('coupon_verifications', 'ix_coupon_verifications_verified_at', 'verified_at'),
    ('coupon_verifications', 'ix_coupon_verifications_undone_at', 'undone_at'),
    ('benefit_grants', 'ix_benefit_grants_granted_at', 'granted_at'),
    ('benefit_grants', 'ix_benefit_grants_claimed_at', 'claimed_at'),
    ('tier_changes', 'ix_tier_changes_created_at', 'created_at'),
)


def _rollup_table(name):
    op.create_table(
        name,
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('metric', sa.String(length=24), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('detail', sa.String(length=24), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'metric', 'tier_id', 'store_id', 'detail', name=op.f(f'pk_{name}')),
    )


def upgrade():
    _rollup_table('daily_facts')
    _rollup_table('daily_snapshots')
    op.create_table(
        'rolled_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('rolled_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_rolled_days')),
    )
    for table, index, column in TIME_INDEXES:
        op.create_index(index, table, [column], unique=False)


def downgrade():
    for table, index, _ in TIME_INDEXES:
        op.drop_index(index, table_name=table)
    op.drop_table('rolled_days')
    op.drop_table('daily_snapshots')
    op.drop_table('daily_facts')
