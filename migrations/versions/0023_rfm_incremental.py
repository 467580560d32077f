"""the RFM run refreshes only the figures that can have changed since the last run: a member's
first purchase in the window (for their mean interval) and when they joined, the run's state, a
row layered by the run that adds it

Revision ID: 0023_rfm_incremental
Revises: 0022_monthly_facts
Create Date: 2026-12-03 08:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0023_rfm_incremental'
down_revision = '0022_monthly_facts'
branch_labels = None
depends_on = None


def upgrade():
    # No rfm_state row: the next run is a full one, which fills first_purchase_at in.
    op.create_table(
        'rfm_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('figures_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rfm_state')),
    )
    with op.batch_alter_table('member_layers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_purchase_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('layer', existing_type=sa.String(length=16), nullable=True)
    op.execute("UPDATE member_layers SET joined_at = (SELECT created_at FROM members WHERE members.id = member_id)")
    with op.batch_alter_table('member_layers', schema=None) as batch_op:
        batch_op.alter_column('joined_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    op.execute("DELETE FROM member_layers WHERE layer IS NULL")
    with op.batch_alter_table('member_layers', schema=None) as batch_op:
        batch_op.alter_column('layer', existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column('first_purchase_at')
        batch_op.drop_column('joined_at')
    op.drop_table('rfm_state')
