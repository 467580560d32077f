"""engagement: check-in, referral, tasks

Revision ID: 0002_engagement
Revises: 0001
Create Date: 2026-11-23 12:11:23.186540

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002_engagement'
down_revision = '0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)


def upgrade():
    op.create_table('engagement_settings',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=True),
    sa.Column('updated_at', UtcDateTime, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_engagement_settings'))
    )
    op.create_table('checkins',
    sa.Column('id', BigId, nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('growth', sa.BigInteger(), nullable=False),
    sa.Column('paid_with', sa.String(length=8), nullable=True),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.CheckConstraint("kind IN ('checkin', 'makeup')", name=op.f('ck_checkins_kind_known')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_checkins_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins')),
    sa.UniqueConstraint('member_id', 'day', name=op.f('uq_checkins_member_id_day'))
    )
    op.create_index('ix_checkins_day', 'checkins', ['day'], unique=False)
    op.create_table('checkin_streak_rewards',
    sa.Column('id', BigId, nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('run_start', sa.Date(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('milestone', sa.Integer(), nullable=False),
    sa.Column('reached_on', sa.Date(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('growth', sa.BigInteger(), nullable=False),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_checkin_streak_rewards_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_streak_rewards')),
    sa.UniqueConstraint('member_id', 'run_start', 'position',
                        name=op.f('uq_checkin_streak_rewards_member_id_run_start_position'))
    )
    op.create_index('ix_checkin_streak_rewards_member_reached', 'checkin_streak_rewards',
                    ['member_id', 'reached_on'], unique=False)
    op.create_table('makeup_cards',
    sa.Column('id', BigId, nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('granted_at', UtcDateTime, nullable=False),
    sa.Column('used_at', UtcDateTime, nullable=True),
    sa.Column('used_for_day', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_makeup_cards_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_makeup_cards')),
    sa.UniqueConstraint('source', name=op.f('uq_makeup_cards_source'))
    )
    op.create_index('ix_makeup_cards_member_used', 'makeup_cards', ['member_id', 'used_at'], unique=False)
    op.create_table('referrals',
    sa.Column('id', BigId, nullable=False),
    sa.Column('inviter_id', sa.Integer(), nullable=False),
    sa.Column('invitee_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('qualified_by', sa.String(length=40), nullable=True),
    sa.Column('purchase_id', BigId, nullable=True),
    sa.Column('inviter_points', sa.BigInteger(), nullable=False),
    sa.Column('inviter_growth', sa.BigInteger(), nullable=False),
    sa.Column('invitee_points', sa.BigInteger(), nullable=False),
    sa.Column('invitee_growth', sa.BigInteger(), nullable=False),
    sa.Column('rewarded_on', sa.Date(), nullable=True),
    sa.Column('rewarded_at', UtcDateTime, nullable=True),
    sa.Column('reversed_at', UtcDateTime, nullable=True),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.CheckConstraint("state IN ('pending', 'rewarded', 'refused', 'reversed')",
                       name=op.f('ck_referrals_state_known')),
    sa.ForeignKeyConstraint(['invitee_id'], ['members.id'], name=op.f('fk_referrals_invitee_id_members')),
    sa.ForeignKeyConstraint(['inviter_id'], ['members.id'], name=op.f('fk_referrals_inviter_id_members')),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_referrals_purchase_id_purchases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('invitee_id', name=op.f('uq_referrals_invitee_id'))
    )
    op.create_index('ix_referrals_inviter_id_id', 'referrals', ['inviter_id', 'id'], unique=False)
    op.create_index('ix_referrals_inviter_rewarded_on', 'referrals', ['inviter_id', 'rewarded_on'], unique=False)
    op.create_index(op.f('ix_referrals_purchase_id'), 'referrals', ['purchase_id'], unique=False)
    op.create_table('phone_bindings',
    sa.Column('id', BigId, nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('bound_at', UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_phone_bindings_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_bindings')),
    sa.UniqueConstraint('phone', 'member_id', name=op.f('uq_phone_bindings_phone_member_id'))
    )
    # Phones bound before this revision count as bound since the member joined.
    op.execute("INSERT INTO phone_bindings (phone, member_id, bound_at) "
               "SELECT phone, id, created_at FROM members WHERE phone IS NOT NULL")
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.Column('recurrence', sa.String(length=8), nullable=False),
    sa.Column('reward_points', sa.BigInteger(), nullable=False),
    sa.Column('reward_growth', sa.BigInteger(), nullable=False),
    sa.Column('reward_makeup_cards', sa.Integer(), nullable=False),
    sa.Column('auto_pay', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('starts_at', UtcDateTime, nullable=True),
    sa.Column('ends_at', UtcDateTime, nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.CheckConstraint("kind IN ('complete_profile', 'bind_phone', 'first_purchase', 'checkin_streak', 'purchases', "
                       "'mall_redeem', 'invite_friends')", name=op.f('ck_tasks_kind_known')),
    sa.CheckConstraint("recurrence IN ('once', 'daily', 'weekly', 'monthly')",
                       name=op.f('ck_tasks_recurrence_known')),
    sa.CheckConstraint('reward_points >= 0 AND reward_growth >= 0 AND reward_makeup_cards >= 0',
                       name=op.f('ck_tasks_reward_not_negative')),
    sa.CheckConstraint('target >= 1', name=op.f('ck_tasks_target_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_table('task_progress',
    sa.Column('id', BigId, nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.BigInteger(), nullable=False),
    sa.Column('completed_at', UtcDateTime, nullable=True),
    sa.Column('updated_at', UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_task_progress_member_id_members')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_progress_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_progress')),
    sa.UniqueConstraint('task_id', 'member_id', 'period', name=op.f('uq_task_progress_task_id_member_id_period'))
    )
    op.create_index(op.f('ix_task_progress_member_id'), 'task_progress', ['member_id'], unique=False)
    op.create_table('task_claims',
    sa.Column('id', BigId, nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('growth', sa.BigInteger(), nullable=False),
    sa.Column('makeup_cards', sa.Integer(), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_task_claims_member_id_members')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_claims_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_claims')),
    sa.UniqueConstraint('task_id', 'member_id', 'period', name=op.f('uq_task_claims_task_id_member_id_period'))
    )
    op.create_index(op.f('ix_task_claims_member_id'), 'task_claims', ['member_id'], unique=False)


def downgrade():
    op.drop_table('task_claims')
    op.drop_table('task_progress')
    op.drop_table('tasks')
    op.drop_table('phone_bindings')
    op.drop_table('referrals')
    op.drop_table('makeup_cards')
    op.drop_table('checkin_streak_rewards')
    op.drop_table('checkins')
    op.drop_table('engagement_settings')
