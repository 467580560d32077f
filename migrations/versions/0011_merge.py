"""one head: purchases by staff, token versions

Revision ID: 0011_merge
Revises: 0009_purchases_by_staff, 0010_token_versions
Create Date: 2026-12-01 23:40:00

"""
# revision identifiers, used by Alembic.
revision = '0011_merge'
down_revision = ('0009_purchases_by_staff', '0010_token_versions')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
