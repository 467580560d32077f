"""one head: console core, rollups, layers and campaigns, member search, the API's store indexes

Revision ID: 0018_merge
Revises: 0012_console_core, 0013_rollups, 0014_layers_campaigns, 0015_console_members, 0017_api15
Create Date: 2026-12-02 10:45:00

"""
# revision identifiers, used by Alembic.
revision = '0018_merge'
down_revision = ('0012_console_core', '0013_rollups', '0014_layers_campaigns', '0015_console_members', '0017_api15')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
