"""the console's members and jobs: who started a job's run; indexes of the member search (PostgreSQL)

Revision ID: 0015_console_members
Revises: 0011_merge
Create Date: 2026-12-02 09:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015_console_members'
down_revision = '0011_merge'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_runs') as batch_op:
        batch_op.add_column(sa.Column('started_by', sa.String(length=80), nullable=True))
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite (the embedded default) scans its members: no expression or trigram indexes
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')  # a trusted extension: the database owner may create it
    op.execute('CREATE INDEX ix_members_phone_reversed ON members (reverse(phone) text_pattern_ops)')
    op.execute('CREATE INDEX ix_members_nickname_lower ON members (lower(nickname) text_pattern_ops)')
    op.execute('CREATE INDEX ix_members_nickname_trgm ON members USING gin (lower(nickname) gin_trgm_ops)')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('ix_members_nickname_trgm', 'ix_members_nickname_lower', 'ix_members_phone_reversed'):
            op.drop_index(name, table_name='members')
    with op.batch_alter_table('job_runs') as batch_op:
        batch_op.drop_column('started_by')
