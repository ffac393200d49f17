"""A reporting period: whole local days, inclusive, turned into UTC bounds for queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from realname.errors import BadInputError

MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise BadInputError(f"the period ends ({self.end}) before it starts ({self.start})", code="bad_period")
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise BadInputError(f"a period covers at most {MAX_DAYS} days", code="bad_period")

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        try:
            return cls(date.fromisoformat(start), date.fromisoformat(end))
        except ValueError:
            raise BadInputError("dates are YYYY-MM-DD", code="bad_period") from None

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """[first day 00:00, day after the last 00:00) in the operator's time zone, as UTC."""
        zone = ZoneInfo(tz)
        lo = datetime.combine(self.start, time(), zone).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(), zone).astimezone(UTC)
        return lo, hi

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=k) for k in range((self.end - self.start).days + 1)]
