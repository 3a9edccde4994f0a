"""The reader links of an email: pace (next now, weekly, pause), "was this useful?" and the call to action through our
redirect. A GET shows a page and changes nothing; the POST acts. On both databases (the upserts and row locks differ).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaigns.db.models import Delivery, Enrollment, LessonFeedback, ReaderEvent, Subscriber
from campaigns.delivery import tick as drip
from campaigns.tokens import SAMPLE_SUBSCRIBER, Tokens
from tests.builders import make_campaign, subscriber
from tests.web.pages import NOW, SECRET, SQLITE_ONLY, TOKENS, altered, csrf, snapshot

LAST_SENT = NOW - timedelta(days=1)
NEXT_DUE = NOW + timedelta(days=1)


@pytest.fixture
def reader(session_factory):
    """A running campaign with a weekday 9-17 window, and Maria, who had step 1 yesterday; step 2 is due tomorrow."""
    cid = make_campaign(session_factory, status="running", window=(range(5), 9, 17))
    with session_factory.begin() as s:
        sub = subscriber(
            "maria@example.com", name="Maria Lopez", timezone="America/New_York", created_at=NOW - timedelta(days=30)
        )
        s.add(sub)
        s.flush()
        s.add(
            Enrollment(
                campaign_id=cid,
                subscriber_id=sub.id,
                next_step=2,
                next_due_at=NEXT_DUE,
                last_sent_at=LAST_SENT,
                status="active",
                enrolled_at=NOW - timedelta(days=30),
            )
        )
    return cid, sub.id


def url(sid: int, cid: int, path: str, step: int = 1) -> str:
    return f"/r/{TOKENS.make_reader(sid, cid, step)}{path}"


def enrollment(factory) -> Enrollment:
    with factory() as s:
        return s.scalars(select(Enrollment)).one()


def reader_events(factory) -> list[tuple[str, int]]:
    with factory() as s:
        return [(e.kind, e.step_number) for e in s.scalars(select(ReaderEvent).order_by(ReaderEvent.id))]


def everything(factory) -> tuple:
    """What any reader link could change."""
    with factory() as s:
        pace = [(e.pace, e.held_until, e.next_due_at) for e in s.scalars(select(Enrollment))]
        answers = [(f.useful, f.comment) for f in s.scalars(select(LessonFeedback))]
    return snapshot(factory), pace, answers, reader_events(factory)


def post(client, path: str, **form) -> object:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": csrf(page.text), **form})


# Pace ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["next", "weekly", "pause"])
def test_a_pace_link_shows_one_button_and_its_get_changes_nothing(client, session_factory, reader, action):
    cid, sid = reader
    before = everything(session_factory)
    page = client.get(url(sid, cid, f"/pace/{action}"))
    assert page.status_code == 200
    assert page.text.count("<button") == 1 and '<form method="post">' in page.text
    assert "Nothing changes until you press the button" in page.text
    assert everything(session_factory) == before


def test_next_now_makes_the_next_email_due_at_once_even_outside_the_sending_window(
    client, session_factory, reader, web_clock
):
    cid, sid = reader
    saturday_night = datetime(2027, 1, 16, 4, 0, tzinfo=UTC)  # 23:00 Friday in New York, Saturday UTC: no window
    web_clock.at = saturday_night
    answer = post(client, url(sid, cid, "/pace/next"))
    assert answer.status_code == 200 and "On its way" in answer.text and "“Step 2”" in answer.text
    e = enrollment(session_factory)
    assert (e.next_due_at, e.next_step, e.pace) == (saturday_night, 2, "usual")
    assert reader_events(session_factory) == [("pace_next", 1)]
    # The next tick (every 30 s) creates the email: the window only decides due times, and the reader chose this one.
    emitted: list[list[int]] = []
    drip.tick(session_factory, saturday_night + timedelta(seconds=30), emitted.append)
    with session_factory() as s:
        assert s.scalars(select(Delivery.step_number)).all() == [2]
    assert sum(map(len, emitted)) == 1


def test_next_now_also_ends_a_pause_the_reader_set_on_all_their_emails(client, session_factory, reader):
    cid, sid = reader
    with session_factory.begin() as s:
        s.get(Subscriber, sid).paused_until = NOW + timedelta(weeks=4)
    post(client, url(sid, cid, "/pace/next"))
    with session_factory() as s:
        assert s.get(Subscriber, sid).paused_until is None


def test_weekly_spaces_the_next_email_a_week_after_the_last_and_every_later_one(
    client, session_factory, reader, web_clock
):
    cid, sid = reader
    answer = post(client, url(sid, cid, "/pace/weekly"))
    assert answer.status_code == 200 and "at most once a week" in answer.text
    e = enrollment(session_factory)
    assert e.pace == "weekly"
    # A week after the last email (Sunday 10 January, 10:00 in New York) is a Sunday: the window opens on Monday.
    assert e.next_due_at == datetime(2027, 1, 18, 14, 0, tzinfo=UTC)
    # Every later step too: the enrollment moves on a week after each email, not the series' one day.
    from campaigns.delivery.progress import advance_enrollments

    sent_at = datetime(2027, 1, 18, 15, 0, tzinfo=UTC)
    with session_factory.begin() as s:
        row = s.get(Enrollment, e.id)
        row.status = "sending"
        s.flush()
        advance_enrollments(s, [e.id], sent_at)
    e = enrollment(session_factory)
    assert e.next_step == 3 and e.next_due_at == sent_at + timedelta(days=7)
    assert reader_events(session_factory) == [("pace_weekly", 1)]


def test_pause_moves_the_next_email_two_weeks_out_and_forgets_one_queued(client, session_factory, reader):
    cid, sid = reader
    with session_factory.begin() as s:  # the tick already made step 2's email; no worker has it yet
        e = s.scalars(select(Enrollment)).one()
        e.status = "sending"
        s.add(Delivery(enrollment_id=e.id, campaign_id=cid, step_number=2, status="queued", due_at=NOW, created_at=NOW))
    answer = post(client, url(sid, cid, "/pace/pause"))
    assert answer.status_code == 200 and "Paused for two weeks" in answer.text
    e = enrollment(session_factory)
    assert e.held_until == NOW + timedelta(days=14)
    assert e.next_due_at >= NOW + timedelta(days=14) and e.status == "active"
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 0
    # The preferences page shows the pause and ends it.
    prefs = f"/p/{TOKENS.make('preferences', sid)}"
    page = client.get(prefs)
    assert "You paused this series" in page.text and "End the pause" in page.text
    done = client.post(prefs, data={"csrf_token": csrf(page.text), "action": "series-resume", "campaign": str(cid)})
    assert done.status_code == 303
    e = enrollment(session_factory)
    assert e.held_until is None and e.next_due_at < NOW + timedelta(days=2)
    assert reader_events(session_factory) == [("pace_pause", 1), ("pace_resume", 0)]


def test_the_preferences_page_shows_the_pace_and_changes_it_back(client, session_factory, reader):
    cid, sid = reader
    post(client, url(sid, cid, "/pace/weekly"))
    prefs = f"/p/{TOKENS.make('preferences', sid)}"
    page = client.get(prefs)
    assert "one email a week" in page.text and "Back to the usual pace" in page.text
    client.post(prefs, data={"csrf_token": csrf(page.text), "action": "series-usual", "campaign": str(cid)})
    e = enrollment(session_factory)
    assert e.pace == "usual"
    assert e.next_due_at < LAST_SENT + timedelta(days=2)  # the series' own one-day delay again (in the window)
    assert "Pace: <strong>as planned</strong>" in client.get(prefs).text


def test_a_pace_post_without_the_pages_csrf_token_changes_nothing(client, session_factory, reader):
    cid, sid = reader
    before = everything(session_factory)
    answer = client.post(url(sid, cid, "/pace/next"), data={"csrf_token": "made-up"})
    assert answer.status_code == 403
    assert everything(session_factory) == before


def test_nothing_to_pace_once_the_series_is_over(client, session_factory, reader):
    cid, sid = reader
    with session_factory.begin() as s:
        s.scalars(select(Enrollment)).one().status = "completed"
    page = client.get(url(sid, cid, "/pace/next"))
    assert "You have had every email" in page.text and "<button" not in page.text


# Was this useful? ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_a_useful_link_shows_a_page_and_its_get_counts_nothing(client, session_factory, reader, answer):
    cid, sid = reader
    before = everything(session_factory)
    page = client.get(url(sid, cid, f"/useful/{answer}"))
    assert page.status_code == 200 and "Was this email useful?" in page.text
    assert page.text.count("<button") == 1 and 'name="comment"' in page.text
    assert everything(session_factory) == before


def test_the_answer_is_kept_on_post_once_per_reader_and_email_and_the_last_counts(client, session_factory, reader):
    cid, sid = reader
    done = post(client, url(sid, cid, "/useful/yes", step=2))
    assert done.status_code == 200 and "Thank you" in done.text and "Send my comment" in done.text
    post(client, url(sid, cid, "/useful/no", step=2), comment="  Too long for me,\nsorry  ")
    post(client, url(sid, cid, "/useful/yes", step=3))
    with session_factory() as s:
        rows = s.execute(
            select(LessonFeedback.step_number, LessonFeedback.useful, LessonFeedback.comment).order_by(
                LessonFeedback.step_number
            )
        ).all()
    assert rows == [(2, False, "Too long for me, sorry"), (3, True, None)]
    # Answering again with the button keeps the comment they wrote.
    post(client, url(sid, cid, "/useful/yes", step=2))
    with session_factory() as s:
        kept = s.execute(select(LessonFeedback.useful, LessonFeedback.comment).where(LessonFeedback.step_number == 2))
        assert kept.one() == (True, "Too long for me, sorry")


def test_a_comment_over_the_limit_is_refused_and_nothing_is_kept(client, session_factory, reader):
    cid, sid = reader
    before = everything(session_factory)
    answer = post(client, url(sid, cid, "/useful/no"), comment="x" * 201)
    assert answer.status_code == 400 and "under 200 characters" in answer.text
    assert 'value="' + "x" * 201 in answer.text  # what they typed comes back to shorten
    assert everything(session_factory) == before


# Call to action ----------------------------------------------------------------------------------------------------


def test_the_call_to_action_counts_the_click_and_goes_to_the_brands_url_only(client, session_factory, reader, web_app):
    cid, sid = reader
    brand_url = web_app.state.context.brand.cta_url
    for path in ("", "?next=https://evil.example/", "?url=//evil.example&to=https://evil.example"):
        answer = client.get(url(sid, cid, path, step=3))
        assert answer.status_code == 302 and answer.headers["location"] == brand_url
    assert reader_events(session_factory) == [("cta_click", 3)] * 3


@SQLITE_ONLY
@pytest.mark.parametrize("kind", ["forged", "altered", "expired", "wrong purpose", "garbage"])
def test_a_bad_token_counts_nothing_and_still_leads_only_to_the_brand(client, session_factory, reader, web_app, kind):
    cid, sid = reader
    token = _bad(kind, sid, cid)
    answer = client.get(f"/r/{token}?next=https://evil.example/")
    assert answer.status_code == 302 and answer.headers["location"] == web_app.state.context.brand.cta_url
    assert reader_events(session_factory) == []


def test_a_path_of_ours_after_the_token_that_is_no_action_is_not_found(client, reader):
    cid, sid = reader
    assert client.get(url(sid, cid, "/pace/faster")).status_code == 404
    assert client.get(url(sid, cid, "/useful/maybe")).status_code == 404
    assert client.get(url(sid, cid, "/https://evil.example")).status_code == 404


# Bad tokens ----------------------------------------------------------------------------------------------------------


def _bad(kind: str, sid: int, cid: int) -> str:
    good = TOKENS.make_reader(sid, cid, 1)
    if kind == "forged":
        return Tokens("someone-elses-key").make_reader(sid, cid, 1)
    if kind == "altered":
        return altered(good)
    if kind == "expired":
        return _expired_reader(sid, cid)
    if kind == "wrong purpose":
        return TOKENS.make("preferences", sid, cid)
    return "not-a-token"


def _expired_reader(sid: int, cid: int) -> str:
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from campaigns.tokens import salt_of

    stamp = int((datetime.now(UTC) - timedelta(days=400)).timestamp())

    class OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(SECRET, salt=salt_of("reader"), signer=OldSigner).dumps([sid, cid, 1])


# The token is refused before the database is asked anything: one database is enough here.
@SQLITE_ONLY
@pytest.mark.parametrize("kind", ["forged", "altered", "expired", "wrong purpose", "garbage"])
def test_a_forged_expired_or_wrong_purpose_token_changes_nothing_and_says_so(client, session_factory, reader, kind):
    cid, sid = reader
    before = everything(session_factory)
    for path in ("/pace/next", "/pace/weekly", "/pace/pause", "/useful/yes", "/useful/no"):
        good = client.get(url(sid, cid, path))  # a real page's CSRF token, so only the link is wrong
        target = f"/r/{_bad(kind, sid, cid)}{path}"
        page = client.get(target)
        answer = client.post(target, data={"csrf_token": csrf(good.text), "comment": "hi"})
        for r in (page, answer):
            assert r.status_code == 400 and "This link does not work" in r.text, (path, r.status_code)
        if kind == "expired":
            assert "work for a year" in page.text
    assert everything(session_factory) == before


@SQLITE_ONLY
def test_a_sample_link_from_a_test_email_opens_a_test_page(client, session_factory, reader, web_app):
    before = everything(session_factory)
    page = client.get(url(SAMPLE_SUBSCRIBER, 0, "/pace/next", step=0))
    assert "This was a test email" in page.text
    cta = client.get(url(SAMPLE_SUBSCRIBER, 0, "", step=0))
    assert cta.status_code == 302 and cta.headers["location"] == web_app.state.context.brand.cta_url
    assert everything(session_factory) == before
