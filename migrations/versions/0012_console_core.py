"""operator roles (admin, operator, analyst; existing accounts are admins) and the audit log

Revision ID: 0012_console_core
Revises: 0011_merge
Create Date: 2026-12-02 09:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0012_console_core'
down_revision = '0011_merge'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('operators') as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=False, server_default='admin'))
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('operator_name', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=128), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('path', sa.String(length=512), nullable=False),
        sa.Column('target_type', sa.String(length=64), nullable=True),
        sa.Column('target_id', sa.String(length=64), nullable=True),
        sa.Column('arguments', sa.JSON(), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('changes_count', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['operator_id'], ['operators.id'], name=op.f('fk_audit_entries_operator_id_operators')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    )
    with op.batch_alter_table('audit_entries') as batch_op:
        batch_op.create_index('ix_audit_entries_action', ['action'], unique=False)
        batch_op.create_index('ix_audit_entries_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_entries_operator_id', ['operator_id'], unique=False)
        batch_op.create_index('ix_audit_entries_target', ['target_type', 'target_id'], unique=False)


def downgrade():
    op.drop_table('audit_entries')
    with op.batch_alter_table('operators') as batch_op:
        batch_op.drop_column('role')
