"""A reporting period: whole local days, inclusive, turned into UTC bounds for queries.

Every day a caller names (API query, CLI option) goes through ``parse_day`` / ``check_day``: strict ``YYYY-MM-DD``
within ``EARLIEST`` .. a year past today. The range is not only tidiness: a day near ``date.min`` or ``date.max``
overflows the time-zone arithmetic of ``bounds`` (and the default start, 30 days back), which was a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from realname.errors import BadInputError

MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)  # before any real-name registry kept by this service
AHEAD = timedelta(days=366)  # the latest day is a year past today: a mistyped year (2062) is refused, not searched
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # no timestamps, times, week dates or the basic form 20240101


def latest() -> date:
    """The last day a period may reach. From UTC's date: a year ahead makes the time zone irrelevant."""
    return datetime.now(UTC).date() + AHEAD


def check_day(day: date, what: str = "the date") -> date:
    if not EARLIEST <= day <= latest():
        raise BadInputError(f"{what} {day.isoformat()} is outside the days a period may cover, "
                            f"{EARLIEST.isoformat()} to {latest().isoformat()}", code="bad_date")
    return day


def parse_day(text: str, what: str = "the date") -> date:
    """A day as a caller writes it: exactly ``YYYY-MM-DD``, a real calendar day, in range (code ``bad_date``)."""
    if not _ISO_DAY.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise BadInputError(f"{what} must be written YYYY-MM-DD, not {shown!r}", code="bad_date")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadInputError(f"{what} {text} is not a calendar day (YYYY-MM-DD)", code="bad_date") from None
    return check_day(day, what)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        check_day(self.start, "the period's start")
        check_day(self.end, "the period's end")
        if self.end < self.start:
            raise BadInputError(f"the period ends ({self.end}) before it starts ({self.start})", code="bad_period")
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise BadInputError(f"a period covers at most {MAX_DAYS} days", code="bad_period")

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        return cls(parse_day(start, "start"), parse_day(end, "end"))

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """[first day 00:00, day after the last 00:00) in the operator's time zone, as UTC."""
        zone = ZoneInfo(tz)
        lo = datetime.combine(self.start, time(), zone).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(), zone).astimezone(UTC)
        return lo, hi

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=k) for k in range((self.end - self.start).days + 1)]
