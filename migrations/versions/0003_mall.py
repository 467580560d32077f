"""mall: coupon templates, coupons and their audit trail, verifications, items, orders,
store coupon offers, store visits and home stores

Revision ID: 0003_mall
Revises: 0001
Create Date: 2026-11-23 12:13:59.433509

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003_mall'
down_revision = '0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)


def upgrade():
    op.create_table('coupon_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_off_fen', sa.BigInteger(), nullable=True),
    sa.Column('percent_off', sa.Integer(), nullable=True),
    sa.Column('max_off_fen', sa.BigInteger(), nullable=True),
    sa.Column('threshold_fen', sa.BigInteger(), nullable=False),
    sa.Column('gift_name', sa.String(length=64), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('total_limit', sa.Integer(), nullable=True),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('issued_count', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.CheckConstraint("kind IN ('amount_off', 'percent_off', 'threshold_off', 'gift')", name=op.f('ck_coupon_templates_kind_known')),
    sa.CheckConstraint('(valid_days IS NULL) <> (valid_until IS NULL)', name=op.f('ck_coupon_templates_one_validity_rule')),
    sa.CheckConstraint('issued_count >= 0 AND (total_limit IS NULL OR issued_count <= total_limit)', name=op.f('ck_coupon_templates_issued_within_limit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_templates'))
    )
    op.create_table('coupon_template_stores',
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_coupon_template_stores_store_id_stores')),
    sa.ForeignKeyConstraint(['template_id'], ['coupon_templates.id'], name=op.f('fk_coupon_template_stores_template_id_coupon_templates')),
    sa.PrimaryKeyConstraint('template_id', 'store_id', name=op.f('pk_coupon_template_stores'))
    )
    op.create_table('mall_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('coupon_template_id', sa.Integer(), nullable=True),
    sa.Column('price_points', sa.BigInteger(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('limit_period', sa.String(length=8), nullable=False),
    sa.Column('min_tier_level', sa.Integer(), nullable=True),
    sa.Column('sale_starts_at', UtcDateTime, nullable=True),
    sa.Column('sale_ends_at', UtcDateTime, nullable=True),
    sa.Column('member_day_price_pct', sa.Integer(), nullable=True),
    sa.Column('member_day_only', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.CheckConstraint("(kind = 'coupon') = (coupon_template_id IS NOT NULL)", name=op.f('ck_mall_items_coupon_item_has_template')),
    sa.CheckConstraint("kind IN ('coupon', 'physical', 'virtual')", name=op.f('ck_mall_items_kind_known')),
    sa.CheckConstraint("limit_period IN ('total', 'day', 'week', 'month')", name=op.f('ck_mall_items_limit_period_known')),
    sa.CheckConstraint('price_points > 0', name=op.f('ck_mall_items_price_positive')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_mall_items_stock_not_negative')),
    sa.ForeignKeyConstraint(['coupon_template_id'], ['coupon_templates.id'], name=op.f('fk_mall_items_coupon_template_id_coupon_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mall_items'))
    )
    op.create_table('store_coupon_offers',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_store_coupon_offers_store_id_stores')),
    sa.ForeignKeyConstraint(['template_id'], ['coupon_templates.id'], name=op.f('fk_store_coupon_offers_template_id_coupon_templates')),
    sa.PrimaryKeyConstraint('store_id', 'template_id', name=op.f('pk_store_coupon_offers'))
    )
    op.create_table('coupons',
    sa.Column('id', BigId, nullable=False),
    sa.Column('code', sa.String(length=13), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('member_seq', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('valid_from', UtcDateTime, nullable=False),
    sa.Column('valid_until', UtcDateTime, nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=80), nullable=True),
    sa.Column('issued_at', UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_coupons_member_id_members')),
    sa.ForeignKeyConstraint(['template_id'], ['coupon_templates.id'], name=op.f('fk_coupons_template_id_coupon_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('code', name=op.f('uq_coupons_code')),
    sa.UniqueConstraint('template_id', 'member_id', 'member_seq', name=op.f('uq_coupons_template_id_member_id_member_seq'))
    )
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.create_index('ix_coupons_member_state_until', ['member_id', 'state', 'valid_until', 'id'], unique=False)
        batch_op.create_index('ix_coupons_state_until', ['state', 'valid_until'], unique=False)

    op.create_table('home_stores',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('attributed_at', UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_home_stores_member_id_members')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_home_stores_store_id_stores')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_home_stores'))
    )
    with op.batch_alter_table('home_stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_stores_store_id'), ['store_id'], unique=False)

    op.create_table('store_visits',
    sa.Column('id', BigId, nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_store_visits_member_id_members')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_store_visits_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_visits'))
    )
    with op.batch_alter_table('store_visits', schema=None) as batch_op:
        batch_op.create_index('ix_store_visits_member_store', ['member_id', 'store_id'], unique=False)
        batch_op.create_index('ix_store_visits_store_at', ['store_id', 'visited_at'], unique=False)

    op.create_table('coupon_events',
    sa.Column('id', BigId, nullable=False),
    sa.Column('coupon_id', BigId, nullable=False),
    sa.Column('from_state', sa.String(length=8), nullable=True),
    sa.Column('to_state', sa.String(length=8), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('ref', sa.String(length=80), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_events_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_coupon_events_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_events'))
    )
    with op.batch_alter_table('coupon_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_events_coupon_id'), ['coupon_id'], unique=False)

    op.create_table('coupon_verifications',
    sa.Column('id', BigId, nullable=False),
    sa.Column('coupon_id', BigId, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('order_no', sa.String(length=64), nullable=False),
    sa.Column('order_amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('discount_fen', sa.BigInteger(), nullable=False),
    sa.Column('verified_at', UtcDateTime, nullable=False),
    sa.Column('undone_at', UtcDateTime, nullable=True),
    sa.Column('undone_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('undo_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_verifications_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_coupon_verifications_staff_id_staff')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_coupon_verifications_store_id_stores')),
    sa.ForeignKeyConstraint(['undone_by_staff_id'], ['staff.id'], name=op.f('fk_coupon_verifications_undone_by_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_verifications'))
    )
    with op.batch_alter_table('coupon_verifications', schema=None) as batch_op:
        batch_op.create_index('ix_coupon_verifications_store_at', ['store_id', 'verified_at'], unique=False)
        batch_op.create_index('ux_coupon_verifications_live_coupon', ['coupon_id'], unique=True, postgresql_where=sa.text('undone_at IS NULL'), sqlite_where=sa.text('undone_at IS NULL'))

    op.create_table('mall_orders',
    sa.Column('id', BigId, nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('coupon_id', BigId, nullable=True),
    sa.Column('ship_to', sa.JSON(), nullable=True),
    sa.Column('carrier', sa.String(length=32), nullable=True),
    sa.Column('tracking_no', sa.String(length=64), nullable=True),
    sa.Column('shipped_at', UtcDateTime, nullable=True),
    sa.Column('cancelled_at', UtcDateTime, nullable=True),
    sa.Column('cancelled_by', sa.String(length=40), nullable=True),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_mall_orders_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['item_id'], ['mall_items.id'], name=op.f('fk_mall_orders_item_id_mall_items')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_mall_orders_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mall_orders'))
    )
    with op.batch_alter_table('mall_orders', schema=None) as batch_op:
        batch_op.create_index('ix_mall_orders_member_id_id', ['member_id', 'id'], unique=False)
        batch_op.create_index('ix_mall_orders_member_item_at', ['member_id', 'item_id', 'created_at'], unique=False)
        batch_op.create_index('ix_mall_orders_state_id', ['state', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('mall_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_mall_orders_state_id')
        batch_op.drop_index('ix_mall_orders_member_item_at')
        batch_op.drop_index('ix_mall_orders_member_id_id')

    op.drop_table('mall_orders')
    with op.batch_alter_table('coupon_verifications', schema=None) as batch_op:
        batch_op.drop_index('ux_coupon_verifications_live_coupon', postgresql_where=sa.text('undone_at IS NULL'), sqlite_where=sa.text('undone_at IS NULL'))
        batch_op.drop_index('ix_coupon_verifications_store_at')

    op.drop_table('coupon_verifications')
    with op.batch_alter_table('coupon_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_events_coupon_id'))

    op.drop_table('coupon_events')
    with op.batch_alter_table('store_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_store_visits_store_at')
        batch_op.drop_index('ix_store_visits_member_store')

    op.drop_table('store_visits')
    with op.batch_alter_table('home_stores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_home_stores_store_id'))

    op.drop_table('home_stores')
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_index('ix_coupons_state_until')
        batch_op.drop_index('ix_coupons_member_state_until')

    op.drop_table('coupons')
    op.drop_table('store_coupon_offers')
    op.drop_table('mall_items')
    op.drop_table('coupon_template_stores')
    op.drop_table('coupon_templates')
