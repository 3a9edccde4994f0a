"""Merge tags staff write in a subject, a preheader or a body: `{{ first_name }}` and
`{{ first_name | default("there") }}`, read with Jinja2's own parser (a sandboxed environment that never runs what it
reads) and turned into the `%%first_name%%` slot that `StepContent.fill` replaces per recipient by a string join.

Anything else is refused by name before it can be saved, so no reader ever sees a literal tag: an unknown variable
(`{{ nmae }}`), another filter, a Jinja statement, and the syntaxes of other tools that staff paste from them
(Mailchimp `*|FNAME|*`, Salesforce/ExactTarget `%%FirstName%%`, Campaign Monitor `[firstname]`, Smarty `{$name}`).
The name falls back to "there" when a subscriber gave none (the greeting's own fallback), so that is the one default.
"""

from __future__ import annotations

import re

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from campaigns.authoring.content import slot
from campaigns.authoring.names import NEUTRAL
from campaigns.errors import StateError

ALLOWED = ("first_name",)
_ENV = SandboxedEnvironment(autoescape=False)
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
# Other tools' merge tags, by what staff would call them.
_FOREIGN = (
    (re.compile(r"\*\|\s*[A-Za-z0-9_:-]+\s*\|\*"), "a Mailchimp merge tag"),
    (re.compile(r"%%\s*[A-Za-z_][\w.\-]*\s*%%"), "a %%...%% merge tag (Salesforce, Outreach's own slots)"),
    (re.compile(r"\{\$\s*[A-Za-z_][\w.]*\s*\}"), "a {$...} merge tag (Smarty, Mautic)"),
    (re.compile(r"\[\s*(?:first_?name|fname|firstname|name|email)\s*(?:,[^\]]*)?\](?!\()", re.I), "a [...] merge tag"),
    (re.compile(r"\{\{\{.*?\}\}\}", re.S), "a {{{...}}} tag (Handlebars)"),
)


def check_tags(text: str, where: str) -> None:
    """Refuse any tag but the allowed ones, naming it and `where` it is ("the subject of email 3")."""
    to_slots(text, where)


def to_slots(text: str, where: str, field: str | None = None) -> str:
    """`text` with each allowed merge tag as its slot marker; StateError naming the first bad tag and `where`."""
    for pattern, what in _FOREIGN:
        found = pattern.search(text)
        if found:
            raise StateError(
                f"{found.group(0).strip()} in {where} is {what}, which Outreach does not fill in; "
                f"write {{{{ first_name }}}} instead",
                field=field,
            )
    out: list[str] = []
    pos = 0
    for m in _TAG.finditer(text):
        out.append(text[pos : m.start()])
        out.append(_slot_of(m.group(0), where, field))
        pos = m.end()
    out.append(text[pos:])
    result = "".join(out)
    leftover = re.search(r"\{\{|\}\}|\{%|%\}", result)
    if leftover:
        raise StateError(
            f"an unclosed merge tag ({leftover.group(0)}) in {where}: write {{{{ first_name }}}}", field=field
        )
    return result


def _slot_of(tag: str, where: str, field: str | None) -> str:
    if not tag.startswith("{{"):
        raise StateError(
            f"{tag} in {where}: only {{{{ first_name }}}} can be used here, not template code", field=field
        )
    try:
        body = _ENV.parse(tag).body
    except jinja2.TemplateSyntaxError as err:
        raise StateError(f"the merge tag {tag} in {where} does not read: {err.message}", field=field) from None
    expr = body[0].nodes[0] if body and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1 else None
    default = None
    if isinstance(expr, nodes.Filter) and expr.name == "default":
        if (
            expr.node is None
            or len(expr.args) != 1
            or expr.kwargs
            or not isinstance(expr.args[0], nodes.Const)
            or not isinstance(expr.args[0].value, str)
        ):
            raise StateError(f'the merge tag {tag} in {where}: write default("there")', field=field)
        default, expr = expr.args[0].value, expr.node
    elif isinstance(expr, nodes.Filter):
        raise StateError(
            f'the merge tag {tag} in {where} uses the filter `{expr.name}`; only default("there") is allowed',
            field=field,
        )
    if not isinstance(expr, nodes.Name):
        raise StateError(
            f"the merge tag {tag} in {where} is not one Outreach fills in; allowed: first_name", field=field
        )
    if expr.name not in ALLOWED:
        raise StateError(
            f"unknown merge tag `{expr.name}` in {where}; allowed: " + ", ".join(ALLOWED),
            field=field,
        )
    if default is not None and default != NEUTRAL:
        # The per-recipient value is the greeting name, which already falls back to "there" (names.greeting_name).
        raise StateError(
            f'the merge tag {tag} in {where}: a name falls back to "{NEUTRAL}" for everyone who gave none, '
            f'so the default can only be "{NEUTRAL}"',
            field=field,
        )
    return slot(expr.name)


def from_slots(text: str) -> str:
    """The reverse for what staff read: a slot marker as the merge tag they write."""
    return text.replace(slot("first_name"), "{{ first_name }}")
