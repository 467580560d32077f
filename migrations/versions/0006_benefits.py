"""benefits: tier benefit grants to claim (monthly, birthday, upgrade)

Revision ID: 0006_benefits
Revises: 0001
Create Date: 2026-11-23 13:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006_benefits'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('benefit_grants',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('benefit', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('tier_id', sa.Integer(), nullable=False),
    sa.Column('coupons', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("benefit IN ('monthly', 'birthday', 'upgrade')", name=op.f('ck_benefit_grants_benefit_known')),
    sa.CheckConstraint("state IN ('claimable', 'claimed', 'expired')", name=op.f('ck_benefit_grants_state_known')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_benefit_grants_member_id_members')),
    sa.ForeignKeyConstraint(['tier_id'], ['tiers.id'], name=op.f('fk_benefit_grants_tier_id_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_grants')),
    sa.UniqueConstraint('member_id', 'benefit', 'period', name=op.f('uq_benefit_grants_member_id_benefit_period'))
    )
    with op.batch_alter_table('benefit_grants', schema=None) as batch_op:
        batch_op.create_index('ix_benefit_grants_state_expires_at', ['state', 'expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('benefit_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_benefit_grants_state_expires_at')
    op.drop_table('benefit_grants')
