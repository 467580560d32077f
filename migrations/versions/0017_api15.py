"""a store's purchases and verifications, newest first: the cashier's recent lists page by (store_id, id);
a store's address, opening hours and location for the members' store list

Revision ID: 0017_api15
Revises: 0011_merge
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0017_api15'
down_revision = '0011_merge'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stores') as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('opening_hours', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True))
    with op.batch_alter_table('purchases') as batch_op:
        batch_op.create_index('ix_purchases_store_id_id', ['store_id', 'id'], unique=False)
    with op.batch_alter_table('coupon_verifications') as batch_op:
        batch_op.create_index('ix_coupon_verifications_store_id_id', ['store_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('coupon_verifications') as batch_op:
        batch_op.drop_index('ix_coupon_verifications_store_id_id')
    with op.batch_alter_table('purchases') as batch_op:
        batch_op.drop_index('ix_purchases_store_id_id')
    with op.batch_alter_table('stores') as batch_op:
        for column in ('longitude', 'latitude', 'opening_hours', 'address'):
            batch_op.drop_column(column)
