"""a token version per account (members, staff, operators): a bump ends the account's tokens

Revision ID: 0010_token_versions
Revises: 0008_idempotency_in_txn
Create Date: 2026-12-01 23:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010_token_versions'
down_revision = '0008_idempotency_in_txn'
branch_labels = None
depends_on = None

TABLES = ('members', 'staff', 'operators')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('token_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('token_version')
