"""An article fetched from its web address with httpx: within set time and size limits, following a few redirects,
only web pages (HTML, or Markdown and plain text served as such), decoded by the charset the server or the page
declares. Each failure is one ArticleError naming the address and what went wrong.

Only public addresses are fetched: a host that resolves to a loopback, private, link-local (cloud metadata at
169.254.169.254) or otherwise non-global address is refused, at the first request and at every redirect, so a URL
typed into the admin cannot reach the server's own network. `allow_private=True` (the setting
OUTREACH_FETCH_PRIVATE_ADDRESSES, meant for tests and a laptop) lifts that. (A name that resolves differently
between the check and the connection, DNS rebinding, is not covered: put the app behind an egress proxy for that.)
"""

from __future__ import annotations

import codecs
import ipaddress
import re
import socket
import time
from email.message import Message
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import httpx

from campaigns.authoring.parsing.source import ArticleSource, decode_article, detect_format
from campaigns.errors import ArticleError

TIMEOUT_SECONDS = 10.0  # to connect, and between two pieces of the answer
TOTAL_SECONDS = 30.0  # for the whole page, however slowly it trickles in
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "Outreach/0.1 (article import)"
# What each content type is read as; anything else is not an article.
_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": None,  # told from what it holds
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)


def is_url(spec: str) -> bool:
    return spec.lower().startswith(("http://", "https://"))


def fetch_article(
    url: str,
    *,
    timeout: float = TIMEOUT_SECONDS,
    total: float = TOTAL_SECONDS,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    allow_private: bool = False,
) -> ArticleSource:
    """The article at `url` (http or https) on a public address (any address with `allow_private`)."""
    if not is_url(url):
        raise ArticleError(url, None, "not a web address: use an http:// or https:// URL")

    def check_host(request: httpx.Request) -> None:
        if not allow_private:
            _refuse_private(url, request.url.host, request.url.port)

    try:
        with (
            httpx.Client(
                event_hooks={"request": [check_host]},
                follow_redirects=True,
                max_redirects=max_redirects,
                timeout=httpx.Timeout(timeout),
                headers={
                    "User-Agent": USER_AGENT,
                    "Accept": "text/html,application/xhtml+xml,text/markdown;q=0.9,text/plain;q=0.8",
                },
            ) as client,
            client.stream("GET", url) as response,
        ):
            final = str(response.url)
            _check_status(url, response)
            fmt = _check_type(url, response)
            data = _read_limited(url, response, max_bytes, time.monotonic() + total)
            encoding = _charset(response, data)
    except httpx.TooManyRedirects:
        raise ArticleError(url, None, f"more than {max_redirects} redirects: the address keeps moving") from None
    except httpx.TimeoutException:
        raise ArticleError(url, None, f"no answer within {timeout:g} seconds") from None
    except httpx.ConnectError as err:
        raise ArticleError(url, None, f"cannot connect ({_reason(err)})") from None
    except httpx.InvalidURL as err:
        raise ArticleError(url, None, f"not a valid web address ({err})") from None
    except httpx.HTTPError as err:  # the connection broke, the answer was malformed, ...
        raise ArticleError(url, None, f"the page could not be read ({_reason(err)})") from None
    text = decode_article(data, url, encoding, empty="the page is empty")
    return ArticleSource(text, fmt or detect_format(text), _name_of(final), final)


def _refuse_private(url: str, host: str, port: int | None) -> None:
    """ArticleError unless every address `host` resolves to is a public one."""
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError):
        raise ArticleError(url, None, f"cannot find the host {host!r}") from None
    for address in found:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise ArticleError(
                url,
                None,
                f"{host} is a private or local address ({ip}); only public web pages can be imported",
            )


def _check_status(url: str, response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise ArticleError(url, None, f"the server answered {response.status_code} {response.reason_phrase}".rstrip())
    if response.status_code >= 300:  # a redirect without a Location, or one httpx will not follow
        raise ArticleError(url, None, f"the server answered {response.status_code} without a page to follow")


def _check_type(url: str, response: httpx.Response) -> str | None:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind:
        return None
    if kind not in _TYPES:
        raise ArticleError(url, None, f"is {kind}, not a web page (HTML, Markdown or plain text)")
    return _TYPES[kind]


def _read_limited(url: str, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ArticleError(url, None, f"the page is {_size(int(declared))}, over the {_size(max_bytes)} limit")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ArticleError(url, None, f"the page is over the {_size(max_bytes)} limit")
        if time.monotonic() > deadline:
            raise ArticleError(url, None, "the page took too long to arrive")
        chunks.append(chunk)
    return b"".join(chunks)


def _charset(response: httpx.Response, data: bytes) -> str:
    """The declared encoding: the Content-Type header's charset, else a <meta> one, else UTF-8."""
    header = Message()
    header["content-type"] = response.headers.get("content-type", "")
    for name in (header.get_param("charset"), _meta_charset(data)):
        if isinstance(name, str) and name:
            try:
                found = codecs.lookup(name).name
            except LookupError:
                continue
            # Pages declaring Latin-1 are written in its Windows superset (the HTML standard reads them so).
            return "cp1252" if found in ("latin-1", "iso8859-1", "ascii") else found
    return "utf-8-sig"


def _meta_charset(data: bytes) -> str | None:
    found = _META_CHARSET.search(data[:4096])
    return found.group(1).decode("ascii", "replace") if found else None


def _name_of(url: str) -> Path:
    """The page's last path segment ("/blog/kratom-guide/" gives "kratom-guide"), else its host."""
    parts = urlsplit(url)
    segments = [s for s in PurePosixPath(unquote(parts.path)).parts if s not in ("/", "")]
    return Path(segments[-1] if segments else parts.hostname or "article")


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _reason(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:200]
