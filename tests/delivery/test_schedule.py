"""Due times: sending windows in the subscriber's own time zone, and daylight-saving changes both ways."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns.delivery.schedule import SendingWindow, first_due, next_due
from campaigns.errors import ConfigError

NY = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
WEEKDAYS = SendingWindow()  # Mon-Fri 09:00-17:00


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_same_local_time_across_spring_forward():
    # Thu 11 Mar 2027 10:00 EST (15:00 UTC); clocks go forward on Sun 14 Mar; +4 days is Mon 15 Mar.
    due = next_due(utc(2027, 3, 11, 15, 0), 4, NY, WEEKDAYS)
    assert due.astimezone(NY).hour == 10
    assert due == utc(2027, 3, 15, 14, 0)  # EDT is UTC-4: the UTC hour moves, the local one does not


def test_same_local_time_across_fall_back():
    # Thu 4 Nov 2027 10:00 EDT (14:00 UTC); clocks go back on Sun 7 Nov.
    due = next_due(utc(2027, 11, 4, 14, 0), 4, NY, WEEKDAYS)
    assert due.astimezone(NY).hour == 10
    assert due == utc(2027, 11, 8, 15, 0)


def test_southern_hemisphere_dst_start():
    # Sydney moves forward on Sun 3 Oct 2027; Fri 1 Oct 10:00 AEST (00:00 UTC) + 3 days = Mon 4 Oct 10:00 AEDT.
    due = next_due(utc(2027, 10, 1, 0, 0), 3, SYDNEY, WEEKDAYS)
    assert due.astimezone(SYDNEY).hour == 10
    assert due == utc(2027, 10, 3, 23, 0)


def test_weekend_moves_to_monday_morning():
    # Fri 10:00 + 1 day = Saturday: not in the window, so Monday 09:00 local.
    due = next_due(utc(2027, 1, 8, 15, 0), 1, NY, WEEKDAYS)
    assert due.astimezone(NY) == datetime(2027, 1, 11, 9, 0, tzinfo=NY)


def test_after_hours_moves_to_next_window():
    start = utc(2027, 1, 5, 23, 30)  # Tue 18:30 in New York
    assert first_due(start, start, NY, WEEKDAYS).astimezone(NY) == datetime(2027, 1, 6, 9, 0, tzinfo=NY)


def test_inside_window_is_unchanged_and_enrolment_after_start_wins():
    start, enrolled = utc(2027, 1, 4, 14, 0), utc(2027, 1, 5, 16, 0)  # Tuesday 11:00 NY
    assert first_due(start, enrolled, NY, WEEKDAYS) == enrolled


def test_window_parse_and_wraparound():
    w = SendingWindow.parse("fri-mon", "8-20")
    assert w.days == frozenset({4, 5, 6, 0}) and (w.start_hour, w.end_hour) == (8, 20)
    assert SendingWindow.parse("mon,wed", "0-24").describe().startswith("mon,wed 00:00-24:00")


@pytest.mark.parametrize("days, hours", [("someday", "9-17"), ("mon-fri", "17-9"), ("mon-fri", "nine")])
def test_bad_window_is_one_clear_error(days, hours):
    with pytest.raises(ConfigError, match="sending window"):
        SendingWindow.parse(days, hours)


@pytest.mark.parametrize(
    "days, hours, says, field",
    [
        ("mon-fri", "17-9", "it must open before it closes, and 17:00 is not before 9:00", "hours"),
        ("mon-fri", "9-25", "hours go from 0 to 24 (midnight to midnight), not 9-25", "hours"),
        ("mon-fri", "nine-five", "write them like 'mon-fri' and '9-17'", "hours"),
    ],
)
def test_a_bad_window_is_said_in_words_and_names_its_field(days, hours, says, field):
    with pytest.raises(ConfigError) as refused:
        SendingWindow.parse(days, hours)
    assert says in str(refused.value) and refused.value.field == field
    assert "<=" not in str(refused.value)
    with pytest.raises(ConfigError, match="pick at least one day") as no_day:
        SendingWindow(frozenset(), 9, 17)
    assert no_day.value.field == "days"
