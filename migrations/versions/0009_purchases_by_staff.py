"""purchases by staff account and time: the day's total a staff account recorded, summed under its row lock

Revision ID: 0009_purchases_by_staff
Revises: 0008_idempotency_in_txn
Create Date: 2026-11-24 00:00:00

"""
from alembic import op

revision = '0009_purchases_by_staff'
down_revision = '0008_idempotency_in_txn'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('purchases') as batch_op:
        batch_op.create_index('ix_purchases_staff_id_created_at', ['staff_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('purchases') as batch_op:
        batch_op.drop_index('ix_purchases_staff_id_created_at')
