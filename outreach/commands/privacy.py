"""`outreach subscribers export|erase ADDRESS`: a subscriber's data rights, for staff answering a request."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from campaigns.audience.privacy import erase_subscriber, export_subscriber
from campaigns.audience.subscribers import get_subscriber
from outreach.bootstrap import get_session_factory, now
from outreach.commands.subscribers import WHO


def export(
    who: str = WHO,
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the JSON here instead of stdout"),
) -> None:
    """Everything stored about a subscriber, as JSON (the same as their own "Download my data")."""
    with get_session_factory().begin() as s:
        data = export_subscriber(s, get_subscriber(s, who).id)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote subscriber {data['subscriber']['id']}'s data to {output}")


def erase(
    who: str = WHO,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation"),
) -> None:
    """Erase a subscriber's personal data; only a hash of the address stays, so it is never mailed again."""
    if not yes:
        with get_session_factory()() as s:
            found = get_subscriber(s, who)  # a wrong address is said before the question, not after
            shown = f"subscriber {found.id} ({found.email or 'erased'})"
        typer.confirm(f"Erase the name, address and history of {shown}? This cannot be undone", abort=True, err=True)
    with get_session_factory().begin() as s:
        subscriber = get_subscriber(s, who)
        counts = erase_subscriber(s, subscriber.id, now())
    typer.echo(
        f"subscriber {subscriber.id} erased: {counts['emails']} email records and {counts['events']} events "
        f"scrubbed; the address stays suppressed (as a hash)"
    )


def register(app: typer.Typer) -> None:
    """Adds `export` and `erase` to the `subscribers` group (made in outreach.commands.subscribers)."""
    from outreach.commands.subscribers import subscribers_app

    subscribers_app.command("export")(export)
    subscribers_app.command("erase")(erase)
