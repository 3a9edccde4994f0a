"""One error family: every mistake a person can make surfaces as one of these, never as a traceback."""

from __future__ import annotations


class OutreachError(Exception):
    """Base of every error a user can cause or fix; the CLI and web shells print `str(err)` as one line.

    The message names no interface: `field` says which input was wrong (a form shows the message beside it) and
    `cli_hint` is what the command line adds, e.g. the command that fixes it (the admin pages offer their own way).
    """

    field: str | None = None
    cli_hint: str | None = None

    def __init__(self, *args: object, field: str | None = None, cli_hint: str | None = None) -> None:
        super().__init__(*args)
        if field is not None:
            self.field = field
        if cli_hint is not None:
            self.cli_hint = cli_hint


class ConfigError(OutreachError):
    """A setting is missing or malformed (names the setting)."""


class ArticleError(OutreachError):
    """An article file cannot be read as an article (names the file and line)."""

    def __init__(self, path: object, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {reason}")


class PlanError(OutreachError):
    """A series cannot be planned or a step does not exist."""


class RenderError(OutreachError):
    """A template failed to render or compile."""


class ImportRowError(OutreachError):
    """A subscriber CSV cannot be imported (names the file, line and field)."""


class NotFound(OutreachError):
    """A campaign, subscriber or step named by the user does not exist."""


class StateError(OutreachError):
    """A move that makes no sense in the current state (e.g. pausing a draft)."""


class TokenError(OutreachError):
    """A signed link is forged, altered, expired or meant for another purpose; says which kind of link it was and
    whether it only expired (the page then says how to get a new one)."""

    def __init__(self, message: str, *, purpose: str | None = None, expired: bool = False) -> None:
        super().__init__(message)
        self.purpose, self.expired = purpose, expired


class ProviderError(OutreachError):
    """The email provider refused or failed; carries the HTTP status and body when there is one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str | None = None,
        retryable: bool = False,
        fatal: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.body = status, body
        self.retryable, self.fatal, self.retry_after = retryable, fatal, retry_after


class SignatureError(OutreachError):
    """A webhook's signature or timestamp does not verify."""


class RateLimited(OutreachError):
    """Too many attempts from one client, for one address or one sign-in (campaigns.rate_limits); says how long to
    wait."""

    def __init__(self, retry_after: int, message: str = "too many attempts; please try again in a few minutes") -> None:
        super().__init__(message)
        self.retry_after = retry_after
