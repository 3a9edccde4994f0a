"""Compiled step content with per-recipient slots, and the cheap fill that runs once per recipient.

The MJML is compiled once per step; what differs per recipient (name, links) stays as `%%slot%%` markers that
`fill` replaces by string joins, escaping for HTML. This keeps the per-recipient send path free of template work.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

SLOT = re.compile(r"%%([a-z_]+)%%")
SLOTS = ("first_name", "unsubscribe_url", "preferences_url")


@dataclass(frozen=True)
class StepContent:
    subject: str
    preheader: str
    html: str  # compiled HTML with %%slot%% markers
    text: str  # plain-text twin with %%slot%% markers
    _html_parts: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _text_parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_html_parts", tuple(SLOT.split(self.html)))
        object.__setattr__(self, "_text_parts", tuple(SLOT.split(self.text)))

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        """(html, text) for one recipient; values are escaped for the HTML part."""
        return (_join(self._html_parts, values, html.escape), _join(self._text_parts, values, str))

    @property
    def slots(self) -> set[str]:
        return set(self._html_parts[1::2]) | set(self._text_parts[1::2])


def _join(parts: tuple[str, ...], values: dict[str, str], escape) -> str:
    out = list(parts)
    for i in range(1, len(out), 2):
        out[i] = escape(values.get(out[i], ""))
    return "".join(out)


def slot(name: str) -> str:
    """The marker a template writes where a per-recipient value goes."""
    assert name in SLOTS, name
    return f"%%{name}%%"
