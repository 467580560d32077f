"""the numbers at scale: check-ins by the time they were made, so that today's rollup and a page
read only the part of the day not rolled up yet

Revision ID: 0020_checkins_by_time
Revises: 0019_items_tasks
Create Date: 2026-12-02 18:30:00

"""
from alembic import op

revision = '0020_checkins_by_time'
down_revision = '0019_items_tasks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checkins') as batch_op:
        batch_op.create_index('ix_checkins_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('checkins') as batch_op:
        batch_op.drop_index('ix_checkins_created_at')
