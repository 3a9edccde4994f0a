"""Brand details (name, postal address, phone, links, sender) loaded from a TOML file under content/, and the check
that tells real values from placeholders by what they are, not only by what the file says about them."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from campaigns.errors import ConfigError

# Hosts reserved for examples and tests (RFC 2606, RFC 6761): a link or address there is a placeholder.
PLACEHOLDER_HOST = re.compile(r"(^|\.)(example\.(com|net|org)|example|invalid|test|localhost)$|^127\.|^0\.0\.0\.0$")
# North American numbers kept for fiction (NANPA): 555-0100 to 555-0199 in any area code, and the unassigned area
# code 555 itself ("(555) 010-0199").
_FICTIONAL_NANP = re.compile(r"^1?(?:\d{3}55501\d\d|555\d{7})$")
# Keys a brand file may leave out, with what they mean then.
OPTIONAL = {"examples": "no value is marked as an example", "country": "US"}
# Keys earlier brand files had and what replaced them, so an old file gets a way forward instead of "unknown key".
RETIRED = {
    "crisis_line": "crisis lines now come from content/crisis_lines.toml, chosen by each reader's country: "
    "delete crisis_line from the brand file",
}


@dataclass(frozen=True)
class Brand:
    name: str
    legal_name: str
    address: str
    phone: str
    phone_display: str
    website: str
    cta_url: str
    sender_name: str
    sender_email: str
    reply_to: str  # a monitored address ("or just reply" is offered only when this is set); "" for none
    language: str
    notice: str
    accent_color: str
    examples: tuple[str, ...] = ()
    country: str = "US"  # where the organisation is: the sample reader of previews and test sends lives there

    @property
    def is_example(self) -> bool:
        """True while any value is still a placeholder from the sample file."""
        return bool(self.examples)

    @property
    def tel_url(self) -> str:
        return "tel:" + "".join(c for c in self.phone if c.isdigit() or c == "+")

    def placeholders(self) -> dict[str, str]:
        """Every value that looks like a placeholder, whatever `examples` says: key -> why, in the file's order."""
        found: dict[str, str] = {}
        for key in ("website", "cta_url"):
            host = urlsplit(getattr(self, key)).hostname or ""
            if PLACEHOLDER_HOST.search(host):
                found[key] = f"{host} is reserved for examples"
        for key in ("sender_email", "reply_to"):
            domain = getattr(self, key).rpartition("@")[2].lower()
            if getattr(self, key) and PLACEHOLDER_HOST.search(domain):
                found[key] = f"{domain} is reserved for examples"
        for key in ("phone", "phone_display"):
            if _FICTIONAL_NANP.match(_digits(getattr(self, key))):
                found[key] = f"{getattr(self, key)} is a 555 number, reserved for fiction"
        if re.search(r"\bexample\b", self.address, re.I):
            found["address"] = "says Example"
        if "phone_display" not in found and not _digits(self.phone).endswith(_digits(self.phone_display)):
            found["phone_display"] = f"{self.phone_display} is not the number phone dials ({self.phone})"
        for key in self.examples:
            found.setdefault(key, "marked as an example")
        order = [f.name for f in fields(Brand)]
        return {k: found[k] for k in sorted(found, key=lambda k: order.index(k) if k in order else len(order))}

    def placeholder_summary(self) -> str:
        """The placeholders in one line: "address (says Example); phone (… is a 555 number, reserved for fiction)"."""
        return "; ".join(f"{key} ({why})" for key, why in self.placeholders().items())


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def load_brand(path: Path) -> Brand:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"brand file {path}: not found (set OUTREACH_BRAND_FILE)") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"brand file {path}: {err}") from None
    retired = sorted(set(data) & set(RETIRED))
    if retired:
        raise ConfigError(f"brand file {path}: {retired[0]} is no longer used: {RETIRED[retired[0]]}")
    names = {f.name for f in fields(Brand)}
    required = names - set(OPTIONAL)
    missing = sorted(n for n in required if n not in data)
    if missing:
        raise ConfigError(f"brand file {path}: missing {', '.join(missing)}")
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"brand file {path}: unknown key {', '.join(unknown)}")
    bad = sorted(n for n in names - {"examples"} if n in data and not isinstance(data[n], str))
    if bad:
        raise ConfigError(f"brand file {path}: {', '.join(bad)} must be text")
    if "country" in data and not re.fullmatch(r"[A-Za-z]{2}", data["country"]):
        raise ConfigError(f"brand file {path}: country must be a two-letter code such as US, not {data['country']!r}")
    data["examples"] = tuple(data.get("examples", ()))
    if "country" in data:
        data["country"] = data["country"].upper()
    return Brand(**data)
