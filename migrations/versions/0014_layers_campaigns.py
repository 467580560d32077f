"""RFM layers and their daily counts, segments, campaigns with their members and holdout, the churn recall

Revision ID: 0014_layers_campaigns
Revises: 0011_merge
Create Date: 2026-12-02 09:40:21

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_layers_campaigns'
down_revision = '0011_merge'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('coupon_template_id', sa.Integer(), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=True),
    sa.Column('send_message', sa.Boolean(), nullable=False),
    sa.Column('recall', sa.Boolean(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('holdout_pct', sa.Integer(), nullable=False),
    sa.Column('response_days', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('launched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('launched_by', sa.String(length=80), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('holdout_pct >= 0 AND holdout_pct <= 50', name=op.f('ck_campaigns_holdout_in_range')),
    sa.CheckConstraint('points IS NULL OR points > 0', name=op.f('ck_campaigns_points_positive')),
    sa.CheckConstraint('response_days >= 1', name=op.f('ck_campaigns_response_days_positive')),
    sa.ForeignKeyConstraint(['coupon_template_id'], ['coupon_templates.id'], name=op.f('fk_campaigns_coupon_template_id_coupon_templates')),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_campaigns_segment_id_segments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('layer_counts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('layer', sa.String(length=16), nullable=False),
    sa.Column('tier_id', sa.Integer(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tier_id'], ['tiers.id'], name=op.f('fk_layer_counts_tier_id_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_layer_counts')),
    sa.UniqueConstraint('day', 'layer', 'tier_id', name=op.f('uq_layer_counts_day_layer_tier_id'))
    )
    op.create_table('member_layers',
    sa.Column('member_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('frequency', sa.Integer(), nullable=False),
    sa.Column('monetary_fen', sa.BigInteger(), nullable=False),
    sa.Column('last_purchase_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('r_score', sa.Integer(), nullable=True),
    sa.Column('f_score', sa.Integer(), nullable=True),
    sa.Column('m_score', sa.Integer(), nullable=True),
    sa.Column('layer', sa.String(length=16), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('previous_layer', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_layers_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_layers'))
    )
    with op.batch_alter_table('member_layers', schema=None) as batch_op:
        batch_op.create_index('ix_member_layers_layer', ['layer'], unique=False)

    op.create_table('recall_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_recall_settings_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_settings'))
    )
    op.create_table('campaign_members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('holdout', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('respond_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('coupon_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('coupon_error', sa.String(length=40), nullable=True),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'reached', 'held_out')", name=op.f('ck_campaign_members_state_known')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_members_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_campaign_members_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_campaign_members_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_members')),
    sa.UniqueConstraint('campaign_id', 'member_id', name=op.f('uq_campaign_members_campaign_id_member_id'))
    )
    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_members_campaign_state', ['campaign_id', 'state', 'member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_members_member_id'), ['member_id'], unique=False)



def downgrade():
    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_members_member_id'))
        batch_op.drop_index('ix_campaign_members_campaign_state')

    op.drop_table('campaign_members')
    op.drop_table('recall_settings')
    with op.batch_alter_table('member_layers', schema=None) as batch_op:
        batch_op.drop_index('ix_member_layers_layer')

    op.drop_table('member_layers')
    op.drop_table('layer_counts')
    op.drop_table('campaigns')
    op.drop_table('segments')
