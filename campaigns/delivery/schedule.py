"""When each email is due: campaign start, per-step delays and a sending window in the subscriber's own time zone.

All arithmetic on wall-clock time goes through zoneinfo, so "two days later at the same local time" stays right across
daylight-saving changes in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.errors import ConfigError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SendingWindow:
    """Days of the week (Monday = 0) and local hours [start, end) in which a subscriber may be mailed."""

    days: frozenset[int] = frozenset(range(5))
    start_hour: int = 9
    end_hour: int = 17

    def __post_init__(self) -> None:
        if not self.days:
            raise ConfigError("sending window: pick at least one day of the week", field="days")
        if not self.days <= set(range(7)):
            raise ConfigError(
                f"sending window: days are numbered 0 (Monday) to 6, not {sorted(self.days)}", field="days"
            )
        if not (0 <= self.start_hour <= 23 and 1 <= self.end_hour <= 24):
            raise ConfigError(
                f"sending window: hours go from 0 to 24 (midnight to midnight), not {self.start_hour}-{self.end_hour}",
                field="hours",
            )
        if self.start_hour >= self.end_hour:
            raise ConfigError(
                f"sending window: it must open before it closes, and {self.start_hour}:00 is not before "
                f"{self.end_hour}:00 (a window that runs past midnight is not possible)",
                field="hours",
            )

    @classmethod
    def parse(cls, days: str, hours: str) -> SendingWindow:
        """From 'mon-fri' or 'mon,wed,fri' and '9-17'."""
        try:
            picked: set[int] = set()
            for part in days.lower().replace(" ", "").split(","):
                a, _, b = part.partition("-")
                lo, hi = DAY_NAMES.index(a[:3]), DAY_NAMES.index((b or a)[:3])
                picked.update(range(lo, hi + 1) if lo <= hi else [*range(lo, 7), *range(0, hi + 1)])
            start, _, end = hours.partition("-")
            return cls(frozenset(picked), int(start), int(end))
        except ValueError:
            raise ConfigError(
                f"sending window: cannot read days {days!r} and hours {hours!r} (write them like 'mon-fri' and '9-17')",
                field="hours",
            ) from None

    def describe(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {self.start_hour:02d}:00-{self.end_hour:02d}:00 local time"

    def next_open(self, at: datetime, tz: ZoneInfo) -> datetime:
        """The earliest instant at or after `at` inside the window, in UTC."""
        local = at.astimezone(tz)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            start, end = _local(day, self.start_hour, tz), _local(day, self.end_hour, tz)
            if offset == 0 and local >= end:
                continue
            return max(start, local).astimezone(UTC) if offset == 0 else start.astimezone(UTC)
        raise AssertionError("a non-empty window opens within a week")  # pragma: no cover


def _local(day: date, hour: int, tz: ZoneInfo) -> datetime:
    if hour == 24:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(day, time(hour), tzinfo=tz)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # validated on import; a bad stored value must not stop a send


def first_due(start_at: datetime, enrolled_at: datetime, tz: ZoneInfo, window: SendingWindow) -> datetime:
    """The first email goes at the campaign start (or on enrolment, if later), moved into the window."""
    return window.next_open(max(start_at, enrolled_at), tz)


def next_due(previous_at: datetime, delay_days: int, tz: ZoneInfo, window: SendingWindow) -> datetime:
    """`delay_days` after the previous email at the same local wall-clock time, moved into the window."""
    local = previous_at.astimezone(tz).replace(tzinfo=None) + timedelta(days=delay_days)
    return window.next_open(local.replace(tzinfo=tz), tz)


def window_of(campaign) -> SendingWindow:
    """The sending window stored on a campaign row."""
    return SendingWindow(frozenset(campaign.window_days), campaign.window_start_hour, campaign.window_end_hour)
