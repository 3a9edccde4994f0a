"""Text from the database, files or people, made safe to print in an operator's terminal.

Names, subjects, reasons and titles are data: printed as they are, an ESC can clear the screen or retitle the
window, and Rich would read `[/]` in a name as markup (and stop with an error). `shown` gives a Rich Text (never read
as markup) with every control character written out visibly (`\\x1b`); `plain` gives the same as a string to put
inside a line that uses markup on purpose.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text

from campaigns.text_input import UNPRINTABLE


def visible(value: object) -> str:
    """`value` as text with each control character written as its escape (ESC as \\x1b, NUL as \\x00)."""
    text = "" if value is None else str(value)
    return UNPRINTABLE.sub(lambda m: ascii(m.group())[1:-1], text)


def shown(value: object, style: str = "") -> Text:
    """A table cell or a line of data: controls visible, brackets shown as brackets (never markup)."""
    return Text(visible(value), style=style)


def plain(value: object) -> str:
    """Data to put inside a markup string (`f"[red]error:[/red] {plain(err)}"`): controls visible, markup escaped."""
    return escape(visible(value))
