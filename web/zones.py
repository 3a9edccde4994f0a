"""The time zone picker's list: one zone per place a person would look for (the tz database's zone.tab, not its
600 names with every old alias), grouped by region, each labelled with its UTC offset today, its city and country.

Any zoneinfo name is still accepted (an alias from an import, the browser's guess): the picker only lists these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REGION_NAMES = {
    "America": "Americas",
    "Atlantic": "Atlantic Ocean",
    "Indian": "Indian Ocean",
    "Pacific": "Pacific Ocean",
}


@dataclass(frozen=True)
class ZoneChoice:
    name: str  # the IANA name, the value sent
    label: str  # "(UTC−05:00) New York, United States"
    offset_minutes: int


@lru_cache(maxsize=2)
def zone_groups(today: date) -> list[tuple[str, list[ZoneChoice]]]:
    """Zones by region ("America", "Europe", ...), each region ordered west to east by today's offset, then by name;
    UTC first on its own. Cached per day: offsets move with daylight saving time."""
    noon = datetime.combine(today, datetime.min.time(), tzinfo=UTC).replace(hour=12)
    countries = _table("iso3166.tab", key=0, value=1)
    groups: dict[str, list[ZoneChoice]] = {}
    for name, country in _table("zone.tab", key=2, value=0).items():
        region, _, place = name.partition("/")
        offset = noon.astimezone(ZoneInfo(name)).utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        parts = list(reversed(place.replace("_", " ").split("/")))
        land = countries.get(country, country)
        where = ", ".join(parts if land in parts else [*parts, land])
        groups.setdefault(region, []).append(ZoneChoice(name, f"({utc_offset(minutes)}) {where}", minutes))
    ordered = [
        (REGION_NAMES.get(region, region), sorted(zones, key=lambda z: (z.offset_minutes, z.label)))
        for region, zones in groups.items()
    ]
    return [("", [ZoneChoice("UTC", "(UTC) Coordinated Universal Time", 0)]), *sorted(ordered)]


def zone_label(name: str, today: date) -> str:
    """The picker's label for any zone name, listed or not (an older alias such as Asia/Calcutta, as Chromium
    reports India's zone, or US/Eastern from an import): its offset today and its place."""
    for _, zones in zone_groups(today):
        for choice in zones:
            if choice.name == name:
                return choice.label
    try:
        where = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return name
    noon = datetime.combine(today, datetime.min.time(), tzinfo=UTC).replace(hour=12)
    offset = noon.astimezone(where).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return f"({utc_offset(minutes)}) {name.rpartition('/')[2].replace('_', ' ')}"


def utc_offset(minutes: int) -> str:
    """UTC−05:00, UTC+05:30, UTC (with a real minus sign, as people write it)."""
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "\N{MINUS SIGN}"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def _table(file: str, *, key: int, value: int) -> dict[str, str]:
    """Two columns of one of the tz database's tab-separated tables, shipped in the tzdata package."""
    text = resources.files("tzdata.zoneinfo").joinpath(file).read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {cols[key]: cols[value].strip() for cols in rows if len(cols) > max(key, value)}
