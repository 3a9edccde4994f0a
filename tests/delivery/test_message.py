"""The RFC 5322 message every provider sends: structure, headers, and the bytes on the wire."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

import pytest

from campaigns.authoring.content import StepContent
from campaigns.brand import Brand
from campaigns.delivery.message import build_message, new_message_token
from campaigns.delivery.providers.base import Batch, Recipient
from campaigns.tokens import Tokens
from tests.builders import BRAND
from tests.parts import require_program

NOW = datetime(2030, 3, 9, 14, 30, 5, tzinfo=UTC)
HTML = (
    "<html><body><p>Hi %%first_name%%,</p><p>Baclofen is a muscle relaxant that doctors prescribe for spasticity."
    "</p><p>500 Harbor Road, Fort Lauderdale, FL 33301. This email is educational, not medical advice.</p>"
    '<p><a href="%%unsubscribe_url%%">Unsubscribe</a> · <a href="%%preferences_url%%">Preferences</a></p>'
    "</body></html>"
)
TEXT = (
    "Hi %%first_name%%,\n\nBaclofen is a muscle relaxant that doctors prescribe for spasticity.\n\n"
    "500 Harbor Road, Fort Lauderdale, FL 33301. This email is educational, not medical advice.\n"
    "Unsubscribe: %%unsubscribe_url%%\n"
)
CONTENT = StepContent(
    subject="Baclofen, lesson 2: how misuse starts", preheader="What to watch for", html=HTML, text=TEXT
)


def recipient(
    delivery_id: int = 7,
    name: str | None = "Dana Reyes",
    email: str = "dana@mail.test",
    url: str = "https://outreach.agape.test/u/tok",
    token: str | None = None,
) -> Recipient:
    """A delivery's recipient: its Message-ID token is decided once (by the tick) and comes with it."""
    return Recipient(
        delivery_id,
        email,
        name,
        {
            "first_name": (name or "").split(" ")[0],
            "unsubscribe_url": url,
            "preferences_url": "https://outreach.agape.test/p/tok",
        },
        message_token=token if token is not None else (f"{delivery_id:032x}" if delivery_id else None),
    )


def build(r: Recipient | None = None, *, brand: Brand = BRAND, now: datetime = NOW, **batch_kw):
    r = r or recipient()
    batch = Batch(CONTENT, brand, "baclofen", 2, (r,), **batch_kw)
    html, text = CONTENT.fill(r.values)
    return build_message(batch, r, now=now, html=html, text=text)


def parsed(msg):
    return message_from_bytes(msg.as_bytes(), policy=policy.default)


def body(msg, kind: str) -> str:
    """A part's text as the reader sees it (the parser keeps the wire's CRLF line ends)."""
    return msg.get_body((kind,)).get_content().replace("\r\n", "\n")


def test_multipart_alternative_text_then_html_in_utf8():
    msg = parsed(build(recipient(name="Zoë Müller")))
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert body(msg, "plain").startswith("Hi Zoë,\n\nBaclofen")
    assert '<a href="https://outreach.agape.test/u/tok">Unsubscribe</a>' in body(msg, "html")


def test_headers_a_bulk_sender_needs():
    msg = parsed(build())
    assert msg["From"].addresses[0].display_name == "Agape Detox"
    assert msg["From"].addresses[0].addr_spec == "learn@agape.test"
    assert msg["To"].addresses[0].addr_spec == "dana@mail.test"
    assert msg["To"].addresses[0].display_name == "Dana Reyes"
    assert msg["Subject"] == "Baclofen, lesson 2: how misuse starts"
    assert msg["List-Unsubscribe"] == "<https://outreach.agape.test/u/tok>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"] == "Agape Detox <baclofen.agape.test>"
    assert msg["Precedence"] == "bulk"
    assert msg["X-Outreach-Delivery"] == "7"
    assert msg["Message-ID"] == f"<{7:032x}@agape.test>"
    assert msg["MIME-Version"] == "1.0"
    assert "Reply-To" not in msg and "X-Outreach-Test" not in msg


def test_reply_to_and_test_mark_when_asked():
    msg = parsed(build(brand=dataclasses.replace(BRAND, reply_to="help@agape.test"), is_test=True))
    assert msg["Reply-To"] == "help@agape.test"
    assert msg["X-Outreach-Test"] == "yes"


def test_long_list_unsubscribe_url_stays_unencoded_on_the_wire():
    url = "https://outreach.agape.test/unsubscribe/" + "Ab3_-" * 40  # 200-character token, as a signed link has
    wire = build(recipient(url=url)).as_bytes()
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in wire
    headers = wire.split(b"\r\n\r\n", 1)[0]
    assert b"=?" not in headers  # no RFC 2047 encoded word anywhere (the names and subject here are ASCII)


def test_non_ascii_and_awkward_names_are_encoded_and_read_back():
    name = 'Zoë "Z" O\'Brien, Jr.'
    brand = dataclasses.replace(BRAND, sender_name="Ágape Détox")
    msg = build(recipient(name=name, email="zoe@mail.test"), brand=brand)
    wire = msg.as_bytes()
    wire.decode("ascii")  # 7-bit clean: non-ASCII names travel as RFC 2047 encoded words
    to_line = re.search(rb"\r\nTo: (.*?)\r\n(?! )", wire).group(1)
    assert to_line.startswith(b"=?utf-8?") and to_line.endswith(b"<zoe@mail.test>")
    back = parsed(msg)
    assert back["To"].addresses[0].display_name == name
    assert back["To"].addresses[0].addr_spec == "zoe@mail.test"
    assert back["From"].addresses[0].display_name == "Ágape Détox"


def test_a_line_break_in_a_name_cannot_inject_a_header():
    msg = parsed(build(recipient(name="Eve\r\nBcc: everyone@evil.test")))
    assert "Bcc" not in msg
    assert msg["To"].addresses[0].addr_spec == "dana@mail.test"


def test_message_id_is_random_decided_once_per_delivery_on_the_sender_domain():
    token = new_message_token()
    first, again, other = build(recipient(7, token=token)), build(recipient(7, token=token)), build(recipient(8))
    assert first["Message-ID"] == f"<{token}@agape.test>"
    assert re.fullmatch(r"<[0-9a-f]{32}@agape\.test>", first["Message-ID"])
    assert "baclofen" not in first["Message-ID"] and "7" not in first["Message-ID"].replace(token, "")
    assert again["Message-ID"] == first["Message-ID"] != other["Message-ID"]
    # Every attempt at one delivery is the same bytes (the boundary too), so the outbox and SMTP agree.
    assert first.as_bytes() == again.as_bytes()
    assert len({new_message_token() for _ in range(1000)}) == 1000


def test_test_sends_get_a_fresh_message_id_each_time():
    a, b = build(recipient(0)), build(recipient(0))
    assert a["Message-ID"] != b["Message-ID"]
    assert a["Message-ID"].endswith("@agape.test>")


def test_a_delivery_row_from_before_tokens_gets_a_random_id():
    old = recipient(9, token="")
    assert build(old)["Message-ID"] != build(old)["Message-ID"]


def test_date_is_the_given_time():
    assert parsedate_to_datetime(parsed(build(now=NOW))["Date"]) == NOW
    eastern = datetime(2030, 11, 3, 1, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert parsed(build(now=eastern))["Date"] == "Sun, 03 Nov 2030 01:30:00 -0400"
    naive_utc = datetime(2030, 1, 2, 3, 4, 5)  # naive datetimes in this project mean UTC
    assert parsed(build(now=naive_utc))["Date"] == "Wed, 02 Jan 2030 03:04:05 +0000"


def test_body_lines_stay_within_rfc_2045_limits_for_long_html():
    long_html = "<p>" + "word " * 2000 + "</p><a href='%%unsubscribe_url%%'>Unsubscribe</a>"
    content = dataclasses.replace(CONTENT, html=long_html)
    r = recipient()
    html, text = content.fill(r.values)
    wire = build_message(Batch(content, BRAND, "baclofen", 2, (r,)), r, now=NOW, html=html, text=text).as_bytes()
    encoded = wire.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in encoded.split(b"\r\n")) <= 76
    assert (
        body(
            parsed(build_message(Batch(content, BRAND, "baclofen", 2, (r,)), r, now=NOW, html=html, text=text)), "html"
        )
        == html + "\n"
    )


def test_no_unsubscribe_link_no_email():
    with pytest.raises(ValueError, match="unsubscribe_url"):
        build(recipient(url=""))


def test_spamassassin_local_score_is_low(tmp_path):
    require_program("spamassassin")  # skips where it is missing; fails under CI=true
    token = Tokens("a-real-looking-secret").make("unsubscribe", 12345, 3)
    msg = build(recipient(url=f"https://outreach.agape.test/unsubscribe/{token}"))
    # -L: local tests only (no network); -t: report on the message; a throwaway prefs file keeps $HOME untouched.
    out = subprocess.run(
        ["spamassassin", "-L", "-t", "-p", str(tmp_path / "user_prefs")],
        input=msg.as_bytes(),
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    score = float(re.search(rb"X-Spam-Status: \w+, score=(-?[0-9.]+)", out).group(1))
    assert score <= 1.0, out.decode(errors="replace")[-2000:]


def test_a_merge_tag_in_the_subject_is_filled_per_recipient():
    """A subject staff wrote with {{ first_name }} is stored with the slot; each recipient's email says their name."""
    content = StepContent("%%first_name%%, how misuse starts", "What to watch for", HTML, TEXT)
    r = recipient(name="Dana Reyes")
    html, text = content.fill(r.values)
    msg = build_message(Batch(content, BRAND, "baclofen", 2, (r,)), r, now=NOW, html=html, text=text)
    assert parsed(msg)["Subject"] == "Dana, how misuse starts"
    assert b"%%" not in msg.as_bytes()
