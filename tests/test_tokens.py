"""Link tokens: one keyed hash per token, purpose-bound, expiring; links in emails sent before keep working."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from campaigns.errors import TokenError
from campaigns.tokens import MAX_AGE, TokenData, Tokens, salt_of

SECRET = "wQ3pZ8kN1vR6tY0mB4xL7cJ2hF9dG5sA"
TOKENS = Tokens(SECRET)


def test_a_token_carries_its_ids_and_only_for_its_purpose():
    token = TOKENS.make("unsubscribe", 42, 7)
    assert TOKENS.read("unsubscribe", token) == TokenData(42, 7)
    assert TOKENS.read("preferences", TOKENS.make("preferences", 42)) == TokenData(42)
    assert TOKENS.read_confirm(TOKENS.make_confirm(5, 2**52 - 1)).nonce == 2**52 - 1
    with pytest.raises(TokenError, match="not valid"):
        TOKENS.read("preferences", token)
    with pytest.raises(TokenError, match="not valid"):
        Tokens("another-secret-of-the-same-length").read("unsubscribe", token)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("42", "43", 1),  # another subscriber
        lambda t: t.replace("-7.", "-8.", 1),  # another campaign
        lambda t: "042" + t[2:],  # the same number spelt otherwise
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the tag
        lambda t: t.rpartition(".")[0],  # no tag
        lambda t: "42." + t.partition(".")[2],  # a campaign dropped
    ],
)
def test_an_altered_token_is_refused(change):
    token = TOKENS.make("unsubscribe", 42, 7)
    with pytest.raises(TokenError, match="not valid"):
        TOKENS.read("unsubscribe", change(token))


def test_a_token_expires_and_one_from_the_future_is_refused():
    old = TOKENS._sign("unsubscribe", (42,), at=time.time() - MAX_AGE["unsubscribe"] - 60)
    with pytest.raises(TokenError, match="expired") as err:
        TOKENS.read("unsubscribe", old)
    assert err.value.expired
    assert TOKENS.read("unsubscribe", TOKENS._sign("unsubscribe", (42,), at=time.time() - 3600)) == TokenData(42)
    with pytest.raises(TokenError, match="not valid"):
        TOKENS.read("unsubscribe", TOKENS._sign("unsubscribe", (42,), at=time.time() + 3600))


def test_links_in_emails_sent_before_keep_working():
    """Tokens itsdangerous made (the format before the one-shot hash) still verify, bound to their purpose."""
    legacy = URLSafeTimedSerializer(SECRET, salt=salt_of("unsubscribe")).dumps([42, 7])
    assert TOKENS.read("unsubscribe", legacy) == TokenData(42, 7)
    with pytest.raises(TokenError, match="not valid"):
        TOKENS.read("preferences", legacy)
    confirm = URLSafeTimedSerializer(SECRET, salt=salt_of("confirm")).dumps([5, 99])
    assert TOKENS.read_confirm(confirm).request_id == 5
