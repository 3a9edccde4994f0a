"""One module per command group; each exposes `register(app)`. What several groups share lives here."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from campaigns.authoring.parsing import ArticleSource

ACTOR = typer.Option(None, "--actor", help="Who is doing this, for the audit log (default: your OS user name)")
ARTICLE_HELP = (
    "The article: a file (.txt copied from a web page, .md or .html), a web address (http:// or https://), "
    "or - to read pasted text, Markdown or HTML from standard input"
)
TITLE = typer.Option(None, "--title", help="The series title, instead of the one found in the article")


def load_article(spec: str) -> ArticleSource:
    """The article a command names: a file, a web address, or "-" for standard input."""
    from campaigns.authoring.parsing import STDIN, is_url, load_source
    from outreach.bootstrap import get_settings

    if spec == STDIN and sys.stdin.isatty():
        typer.echo("Paste the article, then press Ctrl-D on a new line:", err=True)
    allow_private = get_settings().fetch_private if is_url(spec) else False
    return load_source(spec, allow_private=allow_private)


class UsageMistake(typer.BadParameter):
    """Options that do not go together, found inside a command: a usage mistake like the parser's own (one line,
    the command's --help, exit code 2). Raise it with the command's `ctx` so the line names that command."""

    def format_message(self) -> str:
        return self.message


def acting_as(value: str | None = None) -> str:
    """Who a command acts as in the audit log: --actor, else the operating-system user."""
    return (value or _os_user()).strip()[:120] or "cli"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or password database (some containers)
        return "cli"
