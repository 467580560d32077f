"""the member search by a phone's last 4 digits reads only the page's members, newest first

Revision ID: 0021_phone_last4
Revises: 0020_checkins_by_time
Create Date: 2026-12-02 19:45:00

"""
from alembic import op

revision = '0021_phone_last4'
down_revision = '0020_checkins_by_time'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':  # SQLite scans its members (see migration 0015)
        op.execute('CREATE INDEX ix_members_phone_last4 ON members ("right"(phone, 4), id)')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_members_phone_last4', table_name='members')
