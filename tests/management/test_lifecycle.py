"""Every lifecycle move, each refusal, the audit of each move, and completion by the tick's helper (both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from campaigns.db.models import AuditEntry, Campaign, Enrollment, Subscriber
from campaigns.delivery import sending
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.delivery.schedule import SendingWindow
from campaigns.delivery.tick import complete_finished
from campaigns.errors import NotFound, StateError
from campaigns.management.editing import edit_window
from campaigns.management.lifecycle import (
    archive_campaign,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
)
from campaigns.management.records import get_campaign
from tests.builders import LINKS, NO_WAIT, START, STEPS, Clock, enroll, make_campaign

BEFORE = START - timedelta(days=1)


def status(factory) -> str:
    with factory() as s:
        return s.scalar(select(Campaign.status))


def actions(factory) -> list[tuple[str, str]]:
    with factory() as s:
        return [(a.actor, a.action) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def draft(factory) -> int:
    """A draft campaign: no start time yet."""
    cid = make_campaign(factory, status="draft")
    with factory.begin() as s:
        s.execute(update(Campaign).values(start_at=None))
    return cid


def move(factory, fn, *args, **kw):
    with factory.begin() as s:
        return fn(s, "test", *args, **kw).status


def test_draft_to_completed_through_every_move_each_audited_with_its_actor(session_factory, brand):
    cid = draft(session_factory)
    enroll(session_factory, cid, 2)
    assert move(session_factory, schedule_campaign, START, BEFORE, actor="ana") == "scheduled"
    assert move(session_factory, pause_campaign, BEFORE, actor="ben") == "paused"
    assert move(session_factory, resume_campaign, BEFORE, actor="ana") == "scheduled"  # start still ahead
    provider, clock = RecordingProvider(), Clock(START)
    for day in range(STEPS):
        batches: list[list[int]] = []
        drip.tick(session_factory, clock(), batches.append)
        assert status(session_factory) == "running"
        for ids in batches:
            sending.send_deliveries(session_factory, provider, LINKS, brand, ids, clock, retry=NO_WAIT)
        if clock() == START:
            assert move(session_factory, pause_campaign, clock(), actor="ben") == "paused"
            assert move(session_factory, resume_campaign, clock(), actor="ben") == "running"  # start passed
        with session_factory.begin() as s:
            assert complete_finished(s, clock()) == ([] if day < STEPS - 1 else ["test"])
        clock.at += timedelta(days=1)
    assert status(session_factory) == "completed"
    with session_factory.begin() as s:
        assert complete_finished(s, clock()) == []  # idempotent
    assert actions(session_factory) == [
        ("ana", "scheduled"),
        ("ben", "paused"),
        ("ana", "resumed"),
        ("ben", "paused"),
        ("ben", "resumed"),
        ("system", "completed"),
    ]
    assert move(session_factory, archive_campaign, clock(), actor="cy") == "archived"
    assert actions(session_factory)[-1] == ("cy", "archived")


def test_a_running_campaign_is_completed_only_when_nobody_is_left_to_mail(session_factory):
    cid = make_campaign(session_factory, status="running")
    enroll(session_factory, cid, 1)
    with session_factory.begin() as s:
        assert complete_finished(s, START) == []
    with session_factory.begin() as s:
        s.execute(update(Enrollment).values(status="stopped"))  # the only subscriber left
        assert complete_finished(s, START) == ["test"]
    assert status(session_factory) == "completed"


@pytest.mark.parametrize(
    "setup, call, message",
    [
        ("draft", lambda s: schedule_campaign(s, "test", START, BEFORE, actor="a"), "has no subscribers"),
        ("running", lambda s: resume_campaign(s, "test", START, actor="a"), "running already: nothing to resume"),
        ("scheduled", lambda s: resume_campaign(s, "test", START, actor="a"), "starts by itself"),
        ("draft", lambda s: pause_campaign(s, "test", START, actor="a"), "is a draft"),
        ("paused", lambda s: pause_campaign(s, "test", START, actor="a"), "paused already"),
        ("running", lambda s: schedule_campaign(s, "test", START, BEFORE, actor="a"), "running already"),
        ("paused", lambda s: schedule_campaign(s, "test", START, BEFORE, actor="a"), "resume it instead"),
        ("archived", lambda s: archive_campaign(s, "test", START, actor="a"), "archived already"),
        ("completed", lambda s: resume_campaign(s, "test", START, actor="a"), "only a paused campaign"),
        ("completed", lambda s: edit_window(s, "test", START, actor="a", daily_cap=5), "it is completed"),
        ("archived", lambda s: edit_window(s, "test", START, actor="a", daily_cap=5), "it is archived"),
    ],
)
def test_moves_that_make_no_sense_are_refused_and_change_nothing(session_factory, setup, call, message):
    make_campaign(session_factory, status=setup)
    with pytest.raises(StateError, match=message), session_factory.begin() as s:
        call(s)
    assert status(session_factory) == setup
    assert actions(session_factory) == []


def test_schedule_refuses_a_naive_or_past_start_and_subscribers_who_all_left(session_factory):
    cid = draft(session_factory)
    (sub,) = enroll(session_factory, cid, 1)
    with pytest.raises(StateError, match="needs a time zone"), session_factory.begin() as s:
        schedule_campaign(s, "test", START.replace(tzinfo=None), BEFORE, actor="a")
    with pytest.raises(StateError, match="in the past"), session_factory.begin() as s:
        schedule_campaign(s, "test", START, START + timedelta(hours=1), actor="a")
    with session_factory.begin() as s:
        s.execute(update(Subscriber).where(Subscriber.id == sub).values(status="unsubscribed"))
    with pytest.raises(StateError, match="no subscribers"), session_factory.begin() as s:
        schedule_campaign(s, "test", START, BEFORE, actor="a")
    with pytest.raises(NotFound, match="no campaign named 'nope'"), session_factory.begin() as s:
        schedule_campaign(s, "nope", START, BEFORE, actor="a")


def test_moving_the_start_replans_first_emails_not_yet_sent(session_factory):
    cid = draft(session_factory)
    enroll(session_factory, cid, 2)
    move(session_factory, schedule_campaign, START, BEFORE, actor="a")
    drip.tick(session_factory, BEFORE, lambda ids: None)  # plans the first emails at START
    with session_factory() as s:
        assert set(s.scalars(select(Enrollment.next_due_at))) == {START}
    later = START + timedelta(days=2)
    move(session_factory, schedule_campaign, later, BEFORE, actor="a")
    drip.tick(session_factory, BEFORE, lambda ids: None)
    with session_factory() as s:
        assert set(s.scalars(select(Enrollment.next_due_at))) == {later}
        assert (
            s.scalars(select(AuditEntry.detail).order_by(AuditEntry.id.desc()))
            .first()
            .endswith(f"(was {START.isoformat()})")
        )


def test_archived_campaign_sends_nothing_more(session_factory, brand):
    cid = make_campaign(session_factory, status="running")
    enroll(session_factory, cid, 2)
    batches: list[list[int]] = []
    drip.tick(session_factory, START, batches.append)
    move(session_factory, archive_campaign, START, actor="a")
    provider = RecordingProvider()
    for ids in batches:  # handed out before the archive: released, not sent
        sending.send_deliveries(session_factory, provider, LINKS, brand, ids, Clock(START), retry=NO_WAIT)
    drip.tick(session_factory, START + timedelta(days=1), batches.append)
    assert provider.batches == []


def test_window_and_cap_edit_is_a_version_and_moves_waiting_people_into_the_new_window(session_factory):
    cid = make_campaign(session_factory, status="running")
    enroll(session_factory, cid, 1, tz="UTC")
    drip.tick(session_factory, START - timedelta(hours=1), lambda ids: None)  # first email due START (Mon 14:00)
    with session_factory.begin() as s:
        v = edit_window(
            s,
            "test",
            START - timedelta(hours=1),
            actor="ana",
            window=SendingWindow(frozenset({1}), 8, 10),
            daily_cap=50,
        )
        assert (v.number, get_campaign(s, "test").current_version, get_campaign(s, "test").daily_cap) == (2, 2, 50)
        assert "daily cap none -> 50" in v.note and "tue 08:00-10:00" in v.note
    with session_factory() as s:
        due = s.scalar(select(Enrollment.next_due_at))
    assert (due.weekday(), due.hour) == (1, 8)  # Tuesday 08:00 UTC, the new window's first opening
    with pytest.raises(StateError, match="nothing to change"), session_factory.begin() as s:
        edit_window(s, "test", START, actor="ana", daily_cap=50)


@pytest.mark.parametrize("slug", ["baclofen\n", "baclofen\r", "bac\x00lofen", " baclofen", "ba", "Baclofen"])
def test_a_slug_is_the_whole_string_a_trailing_newline_included(session_factory, brand, tmp_path, slug):
    """Issue 19, point 11: the slug check ended in `$`, which lets "slug\\n" through."""
    from campaigns.management.lifecycle import create_campaign

    article = tmp_path / "a.md"
    article.write_text("# A title\n\nSome words.\n\n## One\n\nMore words here.\n", encoding="utf-8")
    with pytest.raises(StateError, match="slug"), session_factory.begin() as s:
        create_campaign(s, article, slug, brand, START, actor="test")
    with session_factory() as s:
        assert s.scalar(select(Campaign.id)) is None
    with pytest.raises(NotFound), session_factory() as s:
        get_campaign(s, "test\n")  # nothing that is not a slug reaches the database
