"""Versions: edits while subscribers sit at different steps, the diff, and re-imports (both databases).

The drip runs through the real tick and send path with a RecordingProvider on a simulated clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns.db.models import (
    AuditEntry,
    Campaign,
    CampaignVersion,
    Delivery,
    Enrollment,
    StepRow,
    Subscriber,
)
from campaigns.delivery import sending
from campaigns.delivery import tick as drip
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.delivery.schedule import SendingWindow
from campaigns.errors import NotFound, StateError
from campaigns.management.editing import (
    diff_versions,
    edit_step,
    edit_window,
    reimport_article,
)
from campaigns.management.enrollment import enroll_subscribers
from campaigns.management.lifecycle import create_campaign, schedule_campaign
from campaigns.management.records import current_steps, get_campaign
from campaigns.settings import PROJECT_ROOT
from tests.builders import KEYS, LINKS, NO_WAIT, Clock, give_tags

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
SHORT = PROJECT_ROOT / "tests" / "fixtures" / "articles" / "alcohol-withdrawal-guide.txt"
START = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


def subscriber(s, name: str, tag: str) -> None:
    address = f"{name}@example.com"
    sub = Subscriber(
        email=address,
        email_key=KEYS.of(address),
        name=name.title(),
        timezone="UTC",
        status="active",
        created_at=START - timedelta(days=30),
    )
    s.add(sub)
    s.flush()
    give_tags(s, sub.id, tag)


@pytest.fixture
def campaign(session_factory, brand):
    """The seed article as a campaign (9 steps, 2 days apart) sending any time of day, for ann, bob and cat."""
    with session_factory.begin() as s:
        create_campaign(s, SEED, "baclofen", brand, START - timedelta(days=2), actor="ana")
        for name, tag in (("ann", "late"), ("bob", "middle"), ("cat", "early")):
            subscriber(s, name, tag)
    with session_factory.begin() as s:
        edit_window(
            s, "baclofen", START - timedelta(days=2), actor="ana", window=SendingWindow(frozenset(range(7)), 0, 24)
        )
        enroll_subscribers(s, "baclofen", START - timedelta(days=1), actor="ana", tag="early")
        schedule_campaign(s, "baclofen", START, START - timedelta(days=1), actor="ana")
    return "baclofen"


def play(factory, brand, provider, clock, until: datetime) -> None:
    """Tick and send at each moment something falls due, up to `until`; the clock ends at `until`."""
    while True:
        batches: list[list[int]] = []
        drip.tick(factory, clock(), batches.append)
        for ids in batches:
            sending.send_deliveries(factory, provider, LINKS, brand, ids, clock, retry=NO_WAIT)
        with factory() as s:
            wake = s.scalar(select(func.min(Enrollment.next_due_at)).where(Enrollment.status == "active"))
        if wake is None or wake > until:
            clock.at = until
            return
        clock.at = max(wake, clock() + timedelta(minutes=1))


def sent(provider) -> list[tuple[str, int, str]]:
    return [(r.email.split("@")[0], b.step, b.content.subject) for b in provider.batches for r in b.recipients]


def test_subscribers_past_a_step_never_get_it_again_and_those_before_it_get_the_new_version(
    session_factory, brand, campaign
):
    provider, clock = RecordingProvider(), Clock(START)
    play(session_factory, brand, provider, clock, START + timedelta(days=12) - timedelta(hours=1))
    with session_factory.begin() as s:
        enroll_subscribers(s, campaign, clock(), actor="ana", tag="middle")
    play(session_factory, brand, provider, clock, START + timedelta(days=16) - timedelta(hours=1))
    with session_factory.begin() as s:
        enroll_subscribers(s, campaign, clock(), actor="ana", tag="late")
    play(session_factory, brand, provider, clock, START + timedelta(days=16) + timedelta(hours=1))
    with session_factory() as s:
        where = dict(
            s.execute(
                select(Subscriber.name, Enrollment.next_step)
                .join(Enrollment, Enrollment.subscriber_id == Subscriber.id)
                .where(Enrollment.status != "completed")
            ).all()
        )
        done = s.scalars(
            select(Subscriber.name)
            .join(Enrollment, Enrollment.subscriber_id == Subscriber.id)
            .where(Enrollment.status == "completed")
        ).all()
    assert (where, done) == ({"Ann": 2, "Bob": 4}, ["Cat"])  # ann had step 1, bob steps 1-3, cat all nine
    sent_before = sent(provider)

    with session_factory.begin() as s:
        old = {r.number: r.subject for r in current_steps(s, get_campaign(s, campaign))}
        v3 = edit_step(s, campaign, 2, brand, clock(), actor="bea", subject="How baclofen works, in two minutes")
        v4 = edit_step(s, campaign, 4, brand, clock(), actor="bea", subject="Dependence or addiction?")
    assert (v3.number, v4.number) == (3, 4)
    play(session_factory, brand, provider, clock, START + timedelta(days=40))

    after = sent(provider)[len(sent_before) :]
    by_person = {p: [(st, subj) for n, st, subj in after if n == p] for p in ("ann", "bob", "cat")}
    assert [st for st, _ in by_person["ann"]] == list(range(2, 10))
    assert [st for st, _ in by_person["bob"]] == list(range(4, 10))
    assert by_person["cat"] == []
    assert dict(by_person["ann"])[2] == "How baclofen works, in two minutes"
    assert dict(by_person["ann"])[4] == dict(by_person["bob"])[4] == "Dependence or addiction?"
    assert dict(by_person["ann"])[3] == old[3]  # an unedited step goes out as it was
    # Nobody got any step twice, over the whole run; bob's and cat's step 2 was the old one.
    everything = [(n, st) for n, st, _ in sent(provider)]
    assert len(everything) == len(set(everything)) == 9 + 9 + 9
    assert {(n, subj) for n, st, subj in sent(provider) if st == 2} == {
        ("cat", old[2]),
        ("bob", old[2]),
        ("ann", "How baclofen works, in two minutes"),
    }
    with session_factory() as s:
        versions = dict(
            s.execute(
                select(Subscriber.name, Delivery.version_number)
                .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
                .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
                .where(Delivery.step_number == 4)
            ).all()
        )
        assert versions == {"Cat": 2, "Bob": 4, "Ann": 4}
        assert s.scalar(select(Campaign.current_version)) == 4


def test_an_edit_copies_unchanged_steps_and_recompiles_only_what_changed(session_factory, brand, campaign):
    with session_factory.begin() as s:
        c = get_campaign(s, campaign)
        before = {r.number: (r.subject, r.html, r.text) for r in current_steps(s, c)}
        edit_step(
            s,
            campaign,
            5,
            brand,
            START,
            actor="bea",
            subject="Tolerance, explained",
            preheader="What changes when the same dose does less",
        )
        after = {r.number: (r.subject, r.html, r.text) for r in current_steps(s, c)}
        edit_step(s, campaign, 6, brand, START, actor="bea", delay_days=4)
        delayed = {r.number: (r.subject, r.html, r.text) for r in current_steps(s, c)}
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "edited").order_by(AuditEntry.id)).all()
    # The edited step; the lesson before it, whose "Next:" line names it; and the welcome, which lists the lessons.
    assert sorted(n for n in before if before[n] != after[n]) == [1, 4, 5]
    assert "<mj-" not in after[5][1] and "Tolerance, explained" in after[5][1]
    assert "Next: “Tolerance, explained”, on %%next_day%%." in after[4][2]
    assert "- Tolerance, explained\n" in after[1][2]
    assert "What changes when the same dose does less" in after[5][2]
    # A new delay changes no lesson, but the welcome email says how often emails come.
    assert sorted(n for n in after if after[n] != delayed[n]) == [1]
    assert "every 2 to 4 days" in delayed[1][2] and "every 2 to 4 days" not in after[1][2]
    assert [(a.actor, "step 5: subject" in a.detail, "step 6: delay 2 -> 4" in a.detail) for a in audit][-2:] == [
        ("bea", True, False),
        ("bea", False, True),
    ]


def test_the_diff_names_each_change_step_by_step(session_factory, brand, campaign):
    with session_factory.begin() as s:
        edit_step(s, campaign, 3, brand, START, actor="bea", subject="Is baclofen addictive?")
        edit_step(s, campaign, 6, brand, START, actor="bea", delay_days=4)
        changes = diff_versions(s, campaign, 2, 4)
        assert diff_versions(s, campaign, 4, 4) == []
        with pytest.raises(Exception, match="no version 9"):
            diff_versions(s, campaign, 1, 9)
    summary = [(c.step, c.field) for c in changes]
    assert summary == [(1, "content"), (2, "content"), (3, "subject"), (3, "content"), (6, "delay")]
    subject = changes[2]
    assert (subject.before, subject.after) == ("Is Baclofen Considered an Addictive Drug?", "Is baclofen addictive?")
    assert changes[4].before == "2 days" and changes[4].after == "4 days"
    welcome, before_it, lesson = changes[0].diff, changes[1].diff, changes[3].diff
    changed = [line for line in welcome if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        "-After this email come seven short lessons, one every other day, each a minute or two to read:",
        "+After this email come seven short lessons, one every 2 to 4 days, each a minute or two to read:",
        "-- Is Baclofen Considered an Addictive Drug?",
        "+- Is baclofen addictive?",
    ]
    # The lesson before names the renamed one as what comes next.
    assert "+Next: “Is baclofen addictive?”, on %%next_day%%." in before_it
    assert (changes[3].after, lesson) == ("HTML only, the text is the same", ())


def test_a_delay_edit_moves_the_next_email_of_those_waiting_for_that_step(session_factory, brand, campaign):
    provider, clock = RecordingProvider(), Clock(START)
    play(session_factory, brand, provider, clock, START + timedelta(hours=1))  # cat had step 1, waits for 2
    with session_factory() as s:
        due = s.scalar(select(Enrollment.next_due_at))
    assert due == START + timedelta(days=2)
    with session_factory.begin() as s:
        edit_step(s, campaign, 2, brand, clock(), actor="bea", delay_days=5)
    with session_factory() as s:
        assert s.scalar(select(Enrollment.next_due_at)) == START + timedelta(days=5)


BAD_EDITS = [
    ({"subject": ""}, "cannot be empty"),
    # Past 60 the editor warns; past 150 it refuses (see campaigns.authoring.inbox.SUBJECT_LIMIT).
    ({"subject": "x" * 151}, "151 characters"),
    ({"subject": "Hi {{ nmae }}"}, "unknown merge tag `nmae` in the subject of email 3; allowed: first_name"),
    ({"preheader": "For you *|FNAME|*"}, r"\*\|FNAME\|\* in the preheader of email 3 is a Mailchimp merge tag"),
    ({"preheader": "y" * 111}, "111 characters"),
    ({"delay_days": 0}, "1 to 365 days"),
    ({"subject": "Is Baclofen Considered an Addictive Drug?"}, "nothing to change"),
]


def test_bad_edits_are_refused_and_make_no_version(session_factory, brand, campaign):
    for kwargs, message in BAD_EDITS:
        with pytest.raises(StateError, match=message), session_factory.begin() as s:
            edit_step(s, campaign, 3, brand, START, actor="bea", **kwargs)
    with pytest.raises(StateError, match="step 1 goes out at the campaign start"), session_factory.begin() as s:
        edit_step(s, campaign, 1, brand, START, actor="bea", delay_days=3)
    with pytest.raises(NotFound, match="its steps are 1 to 9"), session_factory.begin() as s:
        edit_step(s, campaign, 10, brand, START, actor="bea", subject="x")
    with session_factory() as s:
        assert s.scalar(select(Campaign.current_version)) == 2


def test_reimport_of_a_shorter_article_completes_those_past_its_end(session_factory, brand, campaign):
    provider, clock = RecordingProvider(), Clock(START)
    play(session_factory, brand, provider, clock, START + timedelta(days=14, hours=1))  # cat had steps 1-8
    with session_factory.begin() as s:
        version = reimport_article(s, campaign, SHORT, brand, clock(), actor="bea")
        steps = len(current_steps(s, get_campaign(s, campaign)))
        changes = diff_versions(s, campaign, 2, version.number)
    assert steps < 8 and "re-planned" in version.note
    assert [c.field for c in changes if c.step > steps] == ["removed"] * (9 - steps)
    with session_factory() as s:
        assert s.scalar(select(Enrollment.status)) == "completed"
    play(session_factory, brand, provider, clock, START + timedelta(days=20))
    assert [st for _, st, _ in sent(provider)] == list(range(1, 9))  # nothing more after the re-import


def test_reimport_without_a_file_keeps_edits_and_refuses_when_nothing_changes(
    session_factory, brand, campaign, tmp_path
):
    with session_factory.begin() as s:
        edit_step(s, campaign, 3, brand, START, actor="bea", subject="Is baclofen addictive?")
    with pytest.raises(StateError, match="changes nothing"), session_factory.begin() as s:
        reimport_article(s, campaign, None, brand, START, actor="bea")
    edited = Path(SEED).read_text(encoding="utf-8").replace("muscle relaxant", "muscle-relaxing medicine", 1)
    assert "muscle-relaxing medicine" in edited
    revised = tmp_path / "revised.txt"
    revised.write_text(edited, encoding="utf-8")
    with session_factory.begin() as s:
        version = reimport_article(s, campaign, revised, brand, START, actor="bea")
        rows = current_steps(s, get_campaign(s, campaign))
        changed = {c.step for c in diff_versions(s, campaign, version.number - 1, version.number)}
    assert rows[2].subject == "Is baclofen addictive?"  # the same shape of article keeps the staff's edit
    assert len(changed) == 1 and "muscle-relaxing medicine" in rows[min(changed) - 1].text


def test_edits_of_a_completed_campaign_are_refused(session_factory, brand, campaign):
    with session_factory.begin() as s:
        get_campaign(s, campaign).status = "completed"
    with (
        pytest.raises(StateError, match="cannot edit campaign 'baclofen': it is completed"),
        session_factory.begin() as s,
    ):
        edit_step(s, campaign, 3, brand, START, actor="bea", subject="New")
    with pytest.raises(StateError, match="it is completed"), session_factory.begin() as s:
        reimport_article(s, campaign, None, brand, START, actor="bea")
    with session_factory() as s:
        assert s.scalar(select(CampaignVersion.number).order_by(CampaignVersion.number.desc())) == 2
        assert s.scalar(select(StepRow.id).where(StepRow.subject == "New")) is None
