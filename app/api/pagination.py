"""Every list answers one shape, {items, next_cursor}: cursor pages newest first (the cursor is the
last id seen), or the whole list at once (next_cursor null) where the list is bounded by nature."""
from functools import cache

from marshmallow import Schema, fields


def page(items: list, limit: int) -> dict:
    """`items` was fetched with limit + 1 rows: the extra one says there is a next page."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": items[-1].id if more else None}


def whole(items) -> dict:
    """A list bounded by nature (tiers, message rules, a date range ...): one page, no next."""
    return {"items": list(items), "next_cursor": None}


@cache  # one class per item schema: the document names it once
def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """The reply of a list of `item_schema`, named after it in the document (TierSchema → TierPage)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.Integer(allow_none=True, required=True,
                                      metadata={"description": "pass as `cursor` for the next page; null: none"}),
    })
