"""Path ids past what an id column holds name nothing: the router answers 404 (NOT_FOUND)
before a query can fail on them (PostgreSQL casts the parameter to the column's INTEGER
and raises "out of range"; SQLite's driver raises past 2**63 - 1). The default bound is
INTEGER's, safe for every table; a route over a BIGINT-keyed table may widen it with
`<int(max=MAX_ID):...>` (app.api.schemas.MAX_ID)."""
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, ValidationError

INTEGER_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` bounded by INTEGER_MAX unless the rule says `max=`; the spec documents the bound."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = INTEGER_MAX,
                 signed: bool = False):
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> int:
        try:
            return super().to_python(value)
        except ValidationError:
            # werkzeug's matcher has already chosen this rule; its own refusal would be a 405
            # listing the methods of sibling rules it passed on the way
            raise NotFound() from None
