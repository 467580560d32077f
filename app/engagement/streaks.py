"""The arithmetic of streaks: runs of consecutive days, cycles, and which rewards are due.

A run is a maximal stretch of consecutive checked days; a day's position is how many
days of its run lead up to and include it. Without a cycle, a milestone m is reached
once per run, at position m. With a cycle of N days, position p is cycle day
((p - 1) mod N) + 1, so milestone m (≤ N) is reached at m, m + N, m + 2N, ...
"""
from collections.abc import Collection
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def run_around(days: Collection[date], day: date) -> tuple[date, date]:
    """First and last day of the run through `day` (which must be in `days`)."""
    start = end = day
    while start - ONE_DAY in days:
        start -= ONE_DAY
    while end + ONE_DAY in days:
        end += ONE_DAY
    return start, end


def position(start: date, day: date) -> int:
    return (day - start).days + 1


def current_streak(days: Collection[date], today: date) -> int:
    """The run ending today, or yesterday while today is not checked yet; else 0."""
    for last in (today, today - ONE_DAY):
        if last in days:
            start = last
            while start - ONE_DAY in days:
                start -= ONE_DAY
            return position(start, last)
    return 0


def positions_reaching(milestone: int, length: int, cycle_days: int | None) -> list[int]:
    """The positions ≤ length at which a run reaches `milestone`."""
    if cycle_days is None:
        return [milestone] if milestone <= length else []
    return list(range(milestone, length + 1, cycle_days))


def next_milestone(milestones: Collection[int], streak: int, cycle_days: int | None) -> tuple[int, int] | None:
    """(position, milestone) of the next reward after `streak` days, or None if none is left."""
    upcoming = []
    for milestone in milestones:
        if cycle_days is None:
            if milestone > streak:
                upcoming.append((milestone, milestone))
        else:
            cycles_ahead = max(0, -(-(streak + 1 - milestone) // cycle_days))  # ceil, at least 0
            upcoming.append((milestone + cycles_ahead * cycle_days, milestone))
    return min(upcoming, default=None)
