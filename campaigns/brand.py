"""Brand details (name, postal address, phone, links, sender) loaded from a TOML file under content/."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from campaigns.errors import ConfigError


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
    reply_to: str
    language: str
    crisis_line: str
    notice: str
    accent_color: str
    examples: tuple[str, ...] = ()

    @property
    def is_example(self) -> bool:
        """True while any value is still a placeholder from the sample file."""
        return bool(self.examples)

    @property
    def tel_url(self) -> str:
        return "tel:" + "".join(c for c in self.phone if c.isdigit() or c == "+")


def load_brand(path: Path) -> Brand:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"brand file {path}: not found (set OUTREACH_BRAND_FILE)") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"brand file {path}: {err}") from None
    names = {f.name for f in fields(Brand)}
    missing = sorted(n for n in names - {"examples"} if n not in data)
    if missing:
        raise ConfigError(f"brand file {path}: missing {', '.join(missing)}")
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"brand file {path}: unknown key {', '.join(unknown)}")
    bad = sorted(n for n in names - {"examples"} if not isinstance(data[n], str))
    if bad:
        raise ConfigError(f"brand file {path}: {', '.join(bad)} must be text")
    data["examples"] = tuple(data.get("examples", ()))
    return Brand(**data)
