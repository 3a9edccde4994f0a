"""CSRF protection for the public forms: a signed double-submit token.

GET pages with a form set a random nonce in an HttpOnly, SameSite cookie and put a signed token in the form; the
token carries a hash of the nonce and the path the form posts to, and expires. A POST is accepted only when the
token verifies, is fresh, was made for this path and matches the cookie. Another site can neither read the token nor
set the cookie, so it cannot make a visitor's browser submit our forms.

The RFC 8058 one-click unsubscribe POST is exempt by design: a mailbox provider sends it with no cookie, and the
signed unsubscribe token in its URL is what authorises it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from campaigns.errors import OutreachError

COOKIE = "outreach_csrf"
FIELD = "csrf_token"
MAX_AGE = 2 * 3600  # a form left open longer than this is refused with a "reload the page" message
_NONCE_BYTES = 32


class CsrfError(OutreachError):
    """A form arrived without a valid CSRF token (forged, expired, for another page, or the cookie is missing)."""


class Csrf:
    def __init__(self, secret_key: str, *, secure_cookie: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="outreach.csrf")
        self._secure = secure_cookie

    def nonce(self, request: Request) -> str:
        """The browser's nonce from its cookie, or a new one (then `set_cookie` must go on the response)."""
        current = request.cookies.get(COOKIE, "")
        return current if _well_formed(current) else secrets.token_urlsafe(_NONCE_BYTES)

    def token(self, nonce: str, scope: str) -> str:
        """The form token for a form that posts to `scope` (a path)."""
        return self._serializer.dumps([_digest(nonce), scope])

    def set_cookie(self, response: Response, nonce: str) -> None:
        response.set_cookie(COOKIE, nonce, httponly=True, samesite="lax", secure=self._secure, path="/")

    def verify(self, request: Request, token: str | None, scope: str) -> None:
        """Raise CsrfError unless `token` is valid for `scope` and matches the request's cookie."""
        nonce = request.cookies.get(COOKIE, "")
        if not token or not _well_formed(nonce):
            raise CsrfError("this form has expired or was not sent from our page; please reload it and try again")
        try:
            digest, made_for = self._serializer.loads(token, max_age=MAX_AGE)
        except SignatureExpired:
            raise CsrfError("this form has expired; please reload the page and try again") from None
        except (BadSignature, ValueError, TypeError):
            raise CsrfError("this form was not sent from our page; please reload it and try again") from None
        if made_for != scope or not hmac.compare_digest(str(digest), _digest(nonce)):
            raise CsrfError("this form was not sent from our page; please reload it and try again")


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _well_formed(nonce: str) -> bool:
    return 40 <= len(nonce) <= 64 and all(c.isalnum() or c in "-_" for c in nonce)
