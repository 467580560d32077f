"""one head: engagement, mall, messaging, benefits

Revision ID: 0007_merge
Revises: 0002_engagement, 0003_mall, 0004_messaging, 0006_benefits
Create Date: 2026-11-23 13:39:24.215547

"""
# revision identifiers, used by Alembic.
revision = '0007_merge'
down_revision = ('0002_engagement', '0003_mall', '0004_messaging', '0006_benefits')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
