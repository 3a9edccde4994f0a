"""Crisis and helpline numbers that fit a reader: their country (known, or read off their time zone) to its lines.

The numbers are data (`content/crisis_lines.toml`, each entry with the page it was read on and how well that was
verified), checked once when loaded: a wrong entry stops start-up with one line naming the file and the entry.
Entries marked `unverified` never reach an email. A country with no lines held here gets the fallback (call your
local emergency number); an EU member without an emergency line of its own gets 112.

The time zone to country step uses the tz database's own tables (zone.tab, zone1970.tab, iso3166.tab and the link
lines of tzdata.zi, from the `tzdata` package): "Europe/Berlin" is DE, "Asia/Calcutta" (an old name) is IN, and a
zone shared across borders ("Atlantic/Jan_Mayen" is Norway but links to Europe/Berlin) gives no country rather
than a wrong one.
"""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from campaigns.errors import ConfigError
from campaigns.settings import PROJECT_ROOT

CRISIS_LINES_FILE = PROJECT_ROOT / "content" / "crisis_lines.toml"
Purpose = Literal["emergency", "suicide_crisis", "substance_use", "mental_health"]
PURPOSES: tuple[Purpose, ...] = ("emergency", "suicide_crisis", "substance_use", "mental_health")
VERIFIED = ("official", "secondary", "unverified")
# Codes people write that are not ISO 3166-1 alpha-2.
_CODE_ALIASES = {"UK": "GB", "EL": "GR"}
_DIGITS = re.compile(r"\+?\d{3,15}")


@dataclass(frozen=True)
class Number:
    display: str  # as printed: "1-800-662-4357 (1-800-662-HELP)"
    dial: str  # digits (and a leading +) for a tel: or sms: link

    @property
    def tel_url(self) -> str:
        return f"tel:{self.dial}"

    @property
    def sms_url(self) -> str:
        return f"sms:{self.dial}"


@dataclass(frozen=True)
class Line:
    name: str
    purpose: Purpose
    call: Number
    call_alt: Number | None
    text: Number | None  # the line takes text messages here
    hours: str  # "24/7", or what the source said
    free: bool
    source: str
    verified: str  # official | secondary
    scope: str  # the country code the line was held under, or "EU"

    @property
    def call_or_text(self) -> bool:
        """The same number takes calls and texts (988 in the US and Canada)."""
        return self.text is not None and self.text.dial == self.call.dial


@dataclass(frozen=True)
class CrisisHelp:
    """What an email shows a reader: the lines of their country, or only the fallback message when none fit."""

    country: str | None  # the country the lines are for (None: unknown or not held here)
    lines: tuple[Line, ...]
    fallback: str  # always shown last: where no line fits, it is the whole help

    @property
    def key(self) -> str:
        """The variant this is: one rendered block per key, shared by everyone who gets it."""
        return self.country or "fallback"


@dataclass(frozen=True)
class CrisisLines:
    by_country: dict[str, tuple[Line, ...]]
    eu_members: frozenset[str]
    eu_lines: tuple[Line, ...]
    fallback: str

    def help_for(self, country: str | None) -> CrisisHelp:
        """The lines for a country code (any case, "UK" for GB), in display order, with the fallback message."""
        code = normalise_country(country)
        if code is None:
            return CrisisHelp(None, (), self.fallback)
        lines = self.by_country.get(code, ())
        if code in self.eu_members and not any(line.purpose == "emergency" for line in lines):
            lines = (*lines, *self.eu_lines)
        return CrisisHelp(code if lines else None, lines, self.fallback)


def normalise_country(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code in capitals ("uk" gives GB), or None for nothing or a code the tz tables lack."""
    if not country or not country.strip():
        return None
    code = country.strip().upper()
    code = _CODE_ALIASES.get(code, code)
    return code if code in _tz_tables().countries else None


@cache
def crisis_lines(path: Path = CRISIS_LINES_FILE) -> CrisisLines:
    """The crisis lines file, read and checked once per process; ConfigError naming the file and entry if wrong."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"crisis lines file {path}: not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"crisis lines file {path}: {err}") from None
    where = str(path)
    by_country: dict[str, tuple[Line, ...]] = {}
    for code, entries in (data.get("lines") or {}).items():
        if code not in _tz_tables().countries:
            raise ConfigError(f"{where}: [lines.{code}]: not an ISO 3166-1 alpha-2 country code")
        by_country[code] = _usable(entries, f"{where}: lines.{code}", code)
    eu = data.get("eu") or {}
    members = frozenset([*eu.get("members", ()), *eu.get("territories", ())])
    unknown = sorted(members - _tz_tables().countries)
    if unknown:
        raise ConfigError(f"{where}: [eu] members: not country codes: {', '.join(unknown)}")
    fallbacks = data.get("fallback") or []
    message = fallbacks[0].get("message") if fallbacks and isinstance(fallbacks[0], dict) else None
    if not isinstance(message, str) or not message.strip():
        raise ConfigError(f"{where}: [[fallback]] needs a message (what to do where no line is held)")
    return CrisisLines(by_country, members, _usable(eu.get("lines") or [], f"{where}: eu.lines", "EU"), message)


def _usable(entries: Any, where: str, scope: str) -> tuple[Line, ...]:
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: expected a list of [[...]] entries")
    lines = []
    for i, entry in enumerate(entries, 1):
        at = f"{where} entry {i} ({entry.get('name', 'no name') if isinstance(entry, dict) else '?'})"
        line = _line(entry, at, scope)
        if line is not None:
            lines.append(line)
    return tuple(lines)


def _line(entry: Any, at: str, scope: str) -> Line | None:
    """One entry as a Line; None when it is unverified (kept in the file for the record, never shown)."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{at}: not a table")
    missing = [k for k in ("name", "purpose", "call", "hours", "source", "verified") if not entry.get(k)]
    if missing:
        raise ConfigError(f"{at}: missing {', '.join(missing)}")
    if entry["purpose"] not in PURPOSES:
        raise ConfigError(f"{at}: purpose {entry['purpose']!r} is not one of {', '.join(PURPOSES)}")
    if entry["verified"] not in VERIFIED:
        raise ConfigError(f"{at}: verified {entry['verified']!r} is not one of {', '.join(VERIFIED)}")
    if not str(entry["source"]).startswith(("https://", "http://")):
        raise ConfigError(f"{at}: source must be the web page the number was read on")
    if entry["verified"] == "unverified":
        return None
    text = entry.get("text")
    return Line(
        name=str(entry["name"]),
        purpose=entry["purpose"],
        call=_number(entry["call"], "tel", f"{at}: call"),
        call_alt=_number(entry["call_alt"], "tel", f"{at}: call_alt") if entry.get("call_alt") else None,
        text=_number(text, "sms", f"{at}: text") if text else None,
        hours=str(entry["hours"]),
        free=entry.get("cost") == "free",
        source=str(entry["source"]),
        verified=str(entry["verified"]),
        scope=scope,
    )


def _number(value: Any, key: str, at: str) -> Number:
    if not isinstance(value, dict) or not value.get("display") or not isinstance(value.get(key), str):
        raise ConfigError(f"{at}: needs display and {key}")
    if not _DIGITS.fullmatch(value[key]):
        raise ConfigError(f"{at}: {key} {value[key]!r} must be digits (with an optional leading +)")
    return Number(str(value["display"]), value[key])


# ----------------------------------------------------------------------------------------- time zone to country


@dataclass(frozen=True)
class _TzTables:
    zone_country: dict[str, str]  # zone.tab: zone -> its one country
    zone_countries: dict[str, tuple[str, ...]]  # zone1970.tab: zone -> every country it serves
    links: dict[str, str]  # tzdata.zi link lines: old or alias name -> target zone
    names: dict[str, str]  # iso3166.tab: casefolded code or country name -> code
    countries: frozenset[str]
    titles: dict[str, str]  # iso3166.tab: code -> country name
    folded: dict[str, str]  # casefolded zone or link name -> as the tz database spells it


def _tz_file(name: str) -> str:
    # The tzdata package ships the tables beside the zone files; it is a dependency, so this never misses.
    return importlib.resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")


def _rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def _tz_tables() -> _TzTables:
    zone_country = {row[2]: row[0] for row in _rows(_tz_file("zone.tab"))}
    zone_countries = {row[2]: tuple(row[0].split(",")) for row in _rows(_tz_file("zone1970.tab"))}
    links = {}
    for line in _tz_file("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    names: dict[str, str] = {}
    for code, name in _rows(_tz_file("iso3166.tab")):
        names[code.casefold()] = code
        names[name.casefold()] = code
    folded = {z.casefold(): z for z in (*zone_country, *links)}
    titles = dict((code, name) for code, name in _rows(_tz_file("iso3166.tab")))
    return _TzTables(zone_country, zone_countries, links, names, frozenset(titles), titles, folded)


@cache
def country_for_zone(zone: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 country of an IANA time zone, or None (UTC, Etc/*, unknown, or shared by countries).

    1. A zone in zone.tab gives its country.
    2. An old name that starts with a country code or name ("US/Eastern", "Canada/Eastern", "Australia/ACT",
       "Iceland", "GB", "NZ") gives that country.
    3. Another alias follows its link to the target zone. The tz database merges zones across borders, so a target
       serving several countries (zone1970.tab) counts only when alias and target share a region ("Europe/Belfast"
       to "Europe/London" is GB); otherwise None ("Atlantic/Jan_Mayen", Norway, links to Europe/Berlin).
    """
    if not zone or not zone.strip():
        return None
    t = _tz_tables()
    name = zone.strip()
    name = name if name in t.zone_country or name in t.links else t.folded.get(name.casefold(), name)
    if name in t.zone_country:
        return t.zone_country[name]
    head = name.split("/", 1)[0].casefold()
    if head in t.names:
        return t.names[head]
    target = t.links.get(name)
    if target is None or target not in t.zone_country:
        return None  # an unknown name, or UTC, Etc/* and the like
    countries = t.zone_countries.get(target, (t.zone_country[target],))
    if len(countries) == 1 or _region(name) == _region(target):
        return t.zone_country[target]
    return None


def _region(zone: str) -> str:
    return zone.split("/", 1)[0] if "/" in zone else ""


def reader_country(country: str | None, zone: str | None) -> str | None:
    """The country to fit help to: the subscriber's own country field where known, else their time zone's."""
    return normalise_country(country) or country_for_zone(zone)


# Names as a sentence says them ("Not in the United States?"); iso3166.tab's own names are for lists ("Britain (UK)").
_SAID = {
    "GB": "the United Kingdom",
    "US": "the United States",
    "AE": "the United Arab Emirates",
    "BS": "the Bahamas",
    "CZ": "Czechia",
    "GM": "the Gambia",
    "NL": "the Netherlands",
    "PH": "the Philippines",
}


def country_name(code: str) -> str:
    """A country as a sentence says it: "the United States", "Germany"."""
    return _SAID.get(code) or _tz_tables().titles.get(code, code)
