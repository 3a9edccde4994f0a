"""A refused admin form: the page is drawn again where the browser is, with what was typed kept and the reason beside
the field it is about (never a redirect that loses the typing, never a bare error page).

A page passes a `FormState` to its template as `form`; the macros in templates/_macros.html read it:
`typed(form, "step-3", "subject", default)`, `field_error(form, "step-3", "subject")`, `form_error(form, "step-3")`.
Forms are named by the id of their <form> element, fields by the domain's name for them (OutreachError.field).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from campaigns.errors import OutreachError


@dataclass(frozen=True)
class FormState:
    form: str = ""  # the id of the form that was sent; "" when none was
    values: Mapping[str, str] = field(default_factory=dict)  # what was typed, by input name
    errors: Mapping[str, str] = field(default_factory=dict)  # field -> message; "" is the form as a whole

    def value(self, form: str, name: str, default: object = "") -> object:
        """What was typed into `name` of `form` if that form was sent, else `default` (the stored value)."""
        return self.values.get(name, default) if form == self.form else default

    def error(self, form: str, name: str = "") -> str:
        return self.errors.get(name, "") if form == self.form else ""


NO_FORM = FormState()


def refused(form: str, err: OutreachError, values: Mapping[str, str], fields: Iterable[str] = ()) -> FormState:
    """The state for a refusal: the message goes beside the field the error names when the form shows that field
    (one of `fields`), above the form otherwise."""
    where = err.field if err.field in set(fields) else ""
    return FormState(form, dict(values), {where: sentence(str(err))})


def sentence(message: object) -> str:
    """A message (any object that reads as one: an error, a check's problem) as a sentence: capital first letter,
    full stop at the end."""
    text = str(message).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
