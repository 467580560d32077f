"""Cursor pagination: newest first; the cursor is the last id seen."""


def page(items: list, limit: int) -> dict:
    """`items` was fetched with limit + 1 rows: the extra one says there is a next page."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": items[-1].id if more else None}
