"""The mall's categories (分类): tabs that operators name and order, one level deep.

A table rather than a text on each item, so that renaming or reordering a tab is one row and
the mini-program can list the tabs; one level, as a points mall holds tens of items, not the
thousands a shop's category tree sorts. A category with items cannot be deleted (move them
first): an item never loses its tab unseen. Members see the categories that have something on
sale, in the operators' order; like the tiers, they are a handful, listed in one page.
"""
from sqlalchemy import exists, select

from app.errors import AppError, MallError
from app.extensions import db
from app.mall.models import MallCategory, MallItem

_ORDER = (MallCategory.sort_order, MallCategory.id)


def get_category(category_id: int) -> MallCategory:
    category = db.session.get(MallCategory, category_id)
    if category is None:
        raise AppError(MallError.CATEGORY_NOT_FOUND)
    return category


def all_categories() -> list[MallCategory]:
    return list(db.session.execute(select(MallCategory).order_by(*_ORDER)).scalars())


def categories_with_items(on_sale: tuple) -> list[MallCategory]:
    """The categories holding an item that matches `on_sale` (what members see now)."""
    holding = exists().where(MallItem.category_id == MallCategory.id, *on_sale)
    return list(db.session.execute(select(MallCategory).where(holding).order_by(*_ORDER)).scalars())


def create_category(**fields) -> MallCategory:
    category = MallCategory(**fields)
    db.session.add(category)
    db.session.flush()
    return category


def update_category(category_id: int, **fields) -> MallCategory:
    category = get_category(category_id)
    for name, value in fields.items():
        setattr(category, name, value)
    db.session.flush()
    return category


def delete_category(category_id: int) -> None:
    category = get_category(category_id)
    if db.session.execute(select(MallItem.id).where(MallItem.category_id == category.id).limit(1)).first():
        raise AppError(MallError.CATEGORY_IN_USE)
    db.session.delete(category)
    db.session.flush()
