"""mall categories, an item's image and category; a task's page; ship_to as wx.chooseAddress gives it

Orders written before: a physical order's {"name", "phone", "address"} becomes the new shape with the
old one-line address as its detail; a non-physical order's JSON 'null' becomes SQL NULL.

Revision ID: 0019_items_tasks
Revises: 0018_merge
Create Date: 2026-12-02 18:30:00

"""
import json

import sqlalchemy as sa
from alembic import op

from app.types import UtcDateTime

revision = '0019_items_tasks'
down_revision = '0018_merge'
branch_labels = None
depends_on = None

# ship_to read as text (so that JSON 'null' is seen), written as JSON with None as SQL NULL
_orders_read = sa.table('mall_orders', sa.column('id', sa.BigInteger()), sa.column('ship_to', sa.Text()))
_orders_write = sa.table('mall_orders', sa.column('id', sa.BigInteger()),
                         sa.column('ship_to', sa.JSON(none_as_null=True)))


def _rewrite_ship_to(convert) -> None:
    connection = op.get_bind()
    stored = sa.cast(_orders_read.c.ship_to, sa.Text())
    for order_id, value in connection.execute(sa.select(_orders_read.c.id, stored)
                                              .where(_orders_read.c.ship_to.is_not(None))).all():
        connection.execute(sa.update(_orders_write).where(_orders_write.c.id == order_id)
                           .values(ship_to=convert(json.loads(value))))


def _to_address(old: dict | None) -> dict | None:
    if not old or 'address' not in old:
        return old or None
    return {'name': old['name'], 'phone': old['phone'], 'province': '', 'city': '', 'district': '',
            'detail': old['address'], 'postcode': None}


def _to_one_line(new: dict | None) -> dict | None:
    if not new or 'detail' not in new:
        return new
    line = ''.join(new[key] for key in ('province', 'city', 'district', 'detail'))
    return {'name': new['name'], 'phone': new['phone'], 'address': line}


def _add_category_id() -> None:
    """In place on SQLite too: batch mode would copy mall_items to a new table and drop the old one,
    which the orders refer to, and SQLite (foreign keys on) refuses that drop once orders exist."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE mall_items ADD COLUMN category_id INTEGER '
                   'CONSTRAINT fk_mall_items_category_id_mall_categories REFERENCES mall_categories (id)')
        return
    op.add_column('mall_items', sa.Column('category_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_mall_items_category_id_mall_categories'), 'mall_items', 'mall_categories',
                          ['category_id'], ['id'])


def upgrade():
    op.create_table('mall_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_at', UtcDateTime, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mall_categories'))
    )
    with op.batch_alter_table('mall_items') as batch_op:
        batch_op.add_column(sa.Column('image_url', sa.String(length=500), nullable=True))
    _add_category_id()
    op.create_index(op.f('ix_mall_items_category_id'), 'mall_items', ['category_id'], unique=False)
    with op.batch_alter_table('tasks') as batch_op:
        batch_op.add_column(sa.Column('page_path', sa.String(length=128), nullable=True))
    _rewrite_ship_to(_to_address)


def downgrade():
    """On SQLite, only before any order exists (dropping a column copies the table, as above)."""
    _rewrite_ship_to(_to_one_line)
    with op.batch_alter_table('tasks') as batch_op:
        batch_op.drop_column('page_path')
    with op.batch_alter_table('mall_items') as batch_op:
        batch_op.drop_index(batch_op.f('ix_mall_items_category_id'))
        batch_op.drop_column('category_id')  # and its foreign key
        batch_op.drop_column('image_url')
    op.drop_table('mall_categories')
