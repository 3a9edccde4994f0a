"""What each column of a subscriber CSV holds: the fields an import knows, the header names spreadsheets and other
tools give them ("E-mail", "Time Zone", "First name"), and the plan for reading one file (a field per column, and what
rows that lack a value get), checked before a row is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from campaigns.audience.subscribers import is_time_zone
from campaigns.audience.tags import TagError, clean_tag
from campaigns.errors import ImportRowError

MAX_CONSENT_SOURCE = 200
IGNORE = "ignore"
# The fields a column can hold, in the order the mapping form offers them, with what staff read.
FIELDS: dict[str, str] = {
    "email": "Email address",
    "name": "Name",
    "first_name": "First name (the greeting)",
    "last_name": "Last name",
    "country": "Country (ISO code)",
    "timezone": "Time zone",
    "tags": "Tags (separated by ;)",
    "consent_source": "Consent: how they signed up",
    "consent_at": "Consent: when",
    "consent_ip": "Consent: IP address",
}
# Header names as spreadsheets and other tools write them, compared without case, spaces or punctuation.
ALIASES: dict[str, str] = {
    **{a: "email" for a in ("email", "emailaddress", "mail", "mailaddress", "emailid", "courriel", "correo")},
    **{a: "name" for a in ("name", "fullname", "displayname", "contactname", "subscribername")},
    **{a: "first_name" for a in ("firstname", "givenname", "forename", "fname")},
    **{a: "last_name" for a in ("lastname", "surname", "familyname", "lname")},
    **{a: "country" for a in ("country", "countrycode", "iso", "nation")},
    **{a: "timezone" for a in ("timezone", "tz", "zone", "timezonename", "ianatimezone")},
    **{a: "tags" for a in ("tags", "tag", "labels", "label", "groups", "segments")},
    **{a: "consent_source" for a in ("consentsource", "consent", "source", "signupsource", "optinsource")},
    **{a: "consent_at" for a in ("consentat", "consenttime", "consentdate", "optintime", "optindate", "confirmedat")},
    **{a: "consent_ip" for a in ("consentip", "optinip", "signupip", "ip", "ipaddress")},
}


def header_key(name: str) -> str:
    """A header cell compared loosely: "E-mail " and "email" are the same, so are "Time Zone" and "timezone"."""
    return re.sub(r"[\W_]+", "", name.replace("\ufeff", "").lower())


def guess_field(name: str) -> str:
    """The field a header most likely names, or IGNORE."""
    return ALIASES.get(header_key(name), IGNORE)


@dataclass(frozen=True)
class ImportPlan:
    """How to read a file's rows: a field (or IGNORE) per column, and what rows that lack a value get."""

    mapping: tuple[str, ...]
    default_timezone: str | None = None  # for rows with no time zone (and files without the column)
    consent: str | None = None  # how consent was given, for rows that do not say
    tag_all: str | None = None  # a tag for every row imported or already there
    campaign_id: int | None = None  # enroll everyone imported (and existing active subscribers) in it


def strict_plan(
    header: Sequence[str], where: str, columns: Mapping[str, str] | None = None, **options: Any
) -> ImportPlan:
    """The plan for a file whose header names its columns (the CLI): each header must be a known name or alias, or be
    given a field (or IGNORE) in `columns`, by header name; an unknown one is refused rather than its data dropped
    (it is most often misspelt)."""
    given = {header_key(name): field for name, field in (columns or {}).items()}
    unused = [name for name in (columns or {}) if header_key(name) not in {header_key(h) for h in header}]
    if unused:
        raise ImportRowError(f"{where}:1: no column {unused[0]!r} in the header (found: {', '.join(header)})")
    mapping = []
    for name in header:
        found = given.get(header_key(name)) or guess_field(name)
        if found == IGNORE and header_key(name) not in given:
            known = ", ".join(f for f in FIELDS if f != "last_name")
            raise ImportRowError(f"{where}:1: unknown column {name.strip()} in the header (known: {known})")
        mapping.append(found)
    plan = ImportPlan(tuple(mapping), **options)
    check_plan(header, plan, where)
    return plan


def check_plan(header: Sequence[str], plan: ImportPlan, where: str = "the file") -> None:
    """ImportRowError when the plan cannot import this file: no email column, a field given twice, no time zone."""
    if len(plan.mapping) != len(header):
        raise ImportRowError(f"{where}: choose what each of the {len(header)} columns holds", field="mapping")
    chosen = [f for f in plan.mapping if f != IGNORE]
    unknown = sorted({f for f in chosen if f not in FIELDS})
    if unknown:
        raise ImportRowError(f"{where}: unknown field {', '.join(unknown)}", field="mapping")
    twice = sorted({f for f in chosen if chosen.count(f) > 1})
    if twice:
        names = ", ".join(repr(header[i].strip()) for i, f in enumerate(plan.mapping) if f in twice)
        raise ImportRowError(
            f"{where}:1: column {', '.join(twice)} appears twice in the header ({names})", field="mapping"
        )
    if "email" not in chosen:
        found = ", ".join(h.strip() for h in header)
        raise ImportRowError(f"{where}:1: missing column email in the header (found: {found})", field="mapping")
    if "last_name" in chosen and "first_name" not in chosen and "name" not in chosen:
        raise ImportRowError(f"{where}: a last name needs a first name or a name column beside it", field="mapping")
    if "timezone" not in chosen and not plan.default_timezone:
        raise ImportRowError(
            f"{where}:1: missing column timezone in the header; give a default time zone for the rows", field="timezone"
        )
    if plan.default_timezone and not is_time_zone(plan.default_timezone):
        raise ImportRowError(f"unknown time zone {plan.default_timezone!r}", field="timezone")
    if plan.consent and len(plan.consent) > MAX_CONSENT_SOURCE:
        raise ImportRowError(f"say how consent was given in at most {MAX_CONSENT_SOURCE} characters", field="consent")
    if plan.tag_all:
        try:
            clean_tag(plan.tag_all)
        except TagError as err:
            raise ImportRowError(str(err), field="tag_all") from None
