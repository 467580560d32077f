"""idempotency keys are claimed in the request's own transaction: no running state to store

Revision ID: 0008_idempotency_in_txn
Revises: 0007_merge
Create Date: 2026-11-23 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008_idempotency_in_txn'
down_revision = '0007_merge'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idempotency_records') as batch_op:
        batch_op.drop_column('state')


def downgrade():
    with op.batch_alter_table('idempotency_records') as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=8), nullable=False, server_default='done'))
