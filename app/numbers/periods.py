"""The periods a page shows: a preset ending today, and the same-length period before it."""
from dataclasses import dataclass
from datetime import date, timedelta

PRESETS = ("7d", "30d", "90d", "ytd")
ACTIVE_DAYS = 30  # a member is active who purchased or checked in within the last 30 days


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> "Period":
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def up_to(self, day: date) -> "Period | None":
        """The part of the period on or before `day`, if any."""
        return Period(self.first, min(self.last, day)) if day >= self.first else None

    def whole_months(self) -> "Period | None":
        """The calendar months wholly inside the period, from the first one's first day to the last
        one's last day, if there is one."""
        first = next_month(self.first - timedelta(days=1))
        last = (self.last + timedelta(days=1)).replace(day=1) - timedelta(days=1)
        return Period(first, last) if first <= last else None


def month_of(day: date) -> Period:
    return Period(day.replace(day=1), next_month(day) - timedelta(days=1))


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def preset_period(preset: str, day: date) -> Period:
    """The preset's days ending on `day`: the last 7, 30 or 90, or the year so far."""
    if preset == "ytd":
        return Period(date(day.year, 1, 1), day)
    return Period(day - timedelta(days=int(preset.removesuffix("d")) - 1), day)


def active_period(day: date) -> Period:
    return Period(day - timedelta(days=ACTIVE_DAYS - 1), day)
