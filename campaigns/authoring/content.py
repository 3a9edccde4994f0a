"""Compiled step content with per-recipient slots, and the cheap fill that runs once per recipient.

The MJML is compiled once per step; what differs per recipient stays as `%%slot%%` markers that `fill` replaces by
string joins. A slot takes either plain text (a name, a link, a weekday: escaped for the HTML part) or a `Block`: a
piece rendered ahead of time in both forms (the crisis lines of one country), put in as it is. Blocks are rendered
once per variant and shared by every recipient who gets that variant, so the send path does no template work.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

SLOT = re.compile(r"%%([a-z_]+)%%")
# first_name: the greeting name; next_day: when the next email comes ("Wednesday"); crisis: the help lines that fit
# the reader's country (a Block); reader_url: the root of the email's reader links (one signed token for the email:
# itself the call to action through our redirect, and with /pace/..., /useful/... after it the reader's choices).
SLOTS = ("first_name", "unsubscribe_url", "preferences_url", "next_day", "crisis", "reader_url")
# Every email carries these (render refuses a template that drops one); next_day only where a next email follows.
REQUIRED_SLOTS = ("first_name", "unsubscribe_url", "preferences_url", "crisis")


@dataclass(frozen=True)
class Block:
    """A pre-rendered piece of an email: its HTML (already escaped, goes in as it is) and its plain-text twin."""

    html: str
    text: str


SlotValue = str | Block


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

    def fill(self, values: Mapping[str, SlotValue]) -> tuple[str, str]:
        """(html, text) for one recipient: text values escaped for the HTML part, blocks put in as rendered."""
        return (_join(self._html_parts, values, html_value), _join(self._text_parts, values, text_value))

    def fill_subject(self, values: Mapping[str, SlotValue]) -> str:
        """The subject for one recipient (a merge tag in it is a slot, like the body's)."""
        if "%%" not in self.subject:
            return self.subject
        return _join(tuple(SLOT.split(self.subject)), values, text_value)

    def with_filled(self, values: Mapping[str, SlotValue]) -> StepContent:
        """The same content with these slots filled for everyone who gets it (one country's crisis lines, say) and
        the others left as markers: a variant, made once and then filled per recipient like any content."""
        return StepContent(
            self.subject,
            self.preheader,
            _join(self._html_parts, values, html_value, keep_missing=True),
            _join(self._text_parts, values, text_value, keep_missing=True),
        )

    @property
    def slots(self) -> set[str]:
        return set(self._html_parts[1::2]) | set(self._text_parts[1::2])


def html_value(value: SlotValue) -> str:
    """A slot value as it goes into HTML."""
    return value.html if isinstance(value, Block) else html.escape(value)


def text_value(value: SlotValue) -> str:
    """A slot value as it goes into plain text."""
    return value.text if isinstance(value, Block) else value


def _join(
    parts: tuple[str, ...],
    values: Mapping[str, SlotValue],
    as_part: Callable[[SlotValue], str],
    *,
    keep_missing: bool = False,
) -> str:
    out = list(parts)
    for i in range(1, len(out), 2):
        name = out[i]
        if name in values:
            out[i] = as_part(values[name])
        else:
            out[i] = f"%%{name}%%" if keep_missing else ""
    return "".join(out)


def slot(name: str) -> str:
    """The marker a template writes where a per-recipient value goes."""
    assert name in SLOTS, name
    return f"%%{name}%%"
