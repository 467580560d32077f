"""Portable SQL the layers need: an instant as a number of days since the Unix epoch, and a
number of days rounded down to whole days."""
from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch_days(FunctionElement):
    """A timestamp as fractional days since 1970-01-01 UTC, so intervals compare as numbers on both
    databases (SQLite stores UTC instants as text: julianday reads them)."""

    type = Float()
    inherit_cache = True


@compiles(epoch_days)
def _epoch_days_on_sqlite(element, compiler, **kw):
    return f"(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5)"


@compiles(epoch_days, "postgresql")
def _epoch_days_on_postgresql(element, compiler, **kw):
    return f"(date_part('epoch', {compiler.process(element.clauses, **kw)}) / 86400.0)"


class whole_days(FunctionElement):
    """A non-negative number of days, rounded down (PostgreSQL's CAST to integer would round)."""

    type = Integer()
    inherit_cache = True


@compiles(whole_days)
def _whole_days_on_sqlite(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


@compiles(whole_days, "postgresql")
def _whole_days_on_postgresql(element, compiler, **kw):
    return f"CAST(floor({compiler.process(element.clauses, **kw)}) AS INTEGER)"
