"""The learning loop on a known set: "was this useful?" answers and comments, pacing, clicks on the call to action
and imported contacts put down to the lesson that came last before; exact counts per lesson and per campaign in the
stats, `outreach stats --json`, /metrics, and the subscriber's data export and erasure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from campaigns.audience.contacts import import_contacts
from campaigns.audience.privacy import erase_subscriber, export_subscriber
from campaigns.db.models import Contact, Delivery, Enrollment, LessonFeedback, ReaderEvent
from campaigns.insight.learning import learning_totals
from campaigns.insight.reader_signals import record_feedback, record_reader_event
from campaigns.insight.stats import campaign_stats
from tests.builders import START
from tests.insight.support import sent_campaign
from tests.web.admin_support import admin_app
from tests.web.test_metrics import TOKEN, samples

T0 = START + timedelta(minutes=1)  # when step 1 went to everyone (tests.insight.support)
H = timedelta(hours=1)
D = timedelta(days=1)

CONTACTS = f"""address,time,channel
person0@example.com,{(T0 + 2 * D + 2 * H).isoformat()},call
PERSON1@Example.com,{(T0 + D + 2 * H).strftime("%Y-%m-%d %H:%M")},Text
person2@example.com,{(T0 + 3 * H).strftime("%m/%d/%Y %I:%M %p")},Phone
person3@example.com,{(T0 + 5 * H).isoformat()},email
stranger@example.com,{(T0 + 5 * H).isoformat()},call
person1@example.com,{(T0 + 5 * D).isoformat()},form
"""


@pytest.fixture
def seeded(session_factory):
    """Four readers of a three-step series: A (0) had steps 1-3, B (1) steps 1-2, C (2) step 1, D (3) nothing."""
    cid, d = sent_campaign(session_factory, 4, steps=(1, 2, 3))
    with session_factory.begin() as s:
        sid = dict(s.execute(select(Enrollment.id, Enrollment.subscriber_id)).all())
        people = sorted(sid.values())
        sent = {(0, 1): T0, (0, 2): T0 + D, (0, 3): T0 + 2 * D, (1, 1): T0, (1, 2): T0 + D, (2, 1): T0}
        for (person, step), did in d.items():
            s.execute(
                update(Delivery).where(Delivery.id == did).values(sent_at=sent.get((person, step)))
                if (person, step) in sent
                else update(Delivery).where(Delivery.id == did).values(status="queued", sent_at=None)
            )
        a, b, c, _ = people
        record_feedback(s, a, cid, 1, True, "Clear and kind", T0 + H)
        record_feedback(s, a, cid, 2, False, None, T0 + D + H)
        record_feedback(s, b, cid, 1, True, None, T0 + H)
        record_feedback(s, b, cid, 2, False, None, T0 + D + H)
        record_feedback(s, b, cid, 2, True, "Helped my brother", T0 + D + H)  # changed their mind: the last counts
        record_feedback(s, c, cid, 1, False, None, T0 + 2 * H)
        record_reader_event(s, a, cid, 2, "pace_weekly", T0 + D + H)
        record_reader_event(s, b, cid, 1, "pace_next", T0 + H)
        record_reader_event(s, b, cid, 2, "pace_pause", T0 + D + H)
        record_reader_event(s, c, cid, 1, "cta_click", T0 + H)
        record_reader_event(s, c, cid, 1, "cta_click", T0 + H + timedelta(minutes=2))
        record_reader_event(s, a, cid, 3, "cta_click", T0 + 2 * D + H)
    with session_factory.begin() as s:
        report = import_contacts(
            s, CONTACTS.encode(), filename="calls.csv", actor="staff@agape.test", now=T0 + 10 * D, tz="UTC"
        )
    return cid, people, report


def test_contacts_are_matched_by_address_and_put_down_to_the_last_email_before(session_factory, seeded):
    cid, (a, b, c, d), report = seeded
    assert (report.rows, report.imported, report.attributed, report.already) == (6, 5, 4, 0)
    assert report.unmatched == [6] and report.ok
    with session_factory() as s:
        found = s.execute(
            select(Contact.subscriber_id, Contact.channel, Contact.campaign_id, Contact.step_number).order_by(
                Contact.contacted_at
            )
        ).all()
    assert found == [
        (c, "call", cid, 1),  # after step 1 (and a click on it): a phone call 3 hours later
        (d, "email", None, None),  # no email had reached them
        (b, "text", cid, 2),  # after step 2 (their pause from it, an hour later, counts as reading it)
        (a, "call", cid, 3),  # after the last email and its call to action
        (b, "form", cid, 2),
    ]


def test_the_same_file_imported_again_adds_nothing(session_factory, seeded):
    with session_factory.begin() as s:
        again = import_contacts(s, CONTACTS.encode(), filename="calls.csv", actor="x", now=T0 + 10 * D)
    assert (again.imported, again.already) == (0, 5)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 5


def test_a_file_with_bad_rows_imports_nothing_and_names_each_by_line(session_factory, seeded):
    bad = (
        "email,when,channel\n"
        "person0@example.com,2027-01-05 10:00,call\n"
        "not an address,2027-01-05 10:00,call\n"
        "person1@example.com,next tuesday,call\n"
        "person1@example.com,2099-01-01 10:00,call\n"
        "person2@example.com,2027-01-05 10:00,carrier pigeon\n"
        "person2@example.com,2027-01-05,call\n"
    )
    with session_factory.begin() as s:
        report = import_contacts(s, bad.encode(), filename="bad.csv", actor="x", now=T0 + 10 * D)
    assert not report.ok and report.imported == 0 and report.problem_count == 5
    assert [p.split(":")[0] for p in report.problems] == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    assert "'next tuesday' cannot be read" in report.problems[1] and "in the future" in report.problems[2]
    assert "use one of call, text, email" in report.problems[3] and "no time of day" in report.problems[4]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 5  # only the seeded import's


def test_a_file_without_the_columns_says_which_are_missing(session_factory, seeded):
    from campaigns.errors import ImportRowError

    with session_factory.begin() as s, pytest.raises(ImportRowError, match=r"calls.csv:1: .*no time or channel"):
        import_contacts(s, b"email,note\na@b.org,hi\n", filename="calls.csv", actor="x", now=T0)


def test_stats_per_lesson_and_per_campaign_are_exact(session_factory, seeded):
    cid, _, _ = seeded
    with session_factory() as s:
        (stats,) = campaign_stats(s, cid)
    steps = {x["number"]: x["readers"] for x in stats.as_dict()["steps"]}
    assert (steps[1]["useful_yes"], steps[1]["useful_no"], steps[1]["comment_count"]) == (2, 1, 1)
    assert steps[1]["useful_rate"] == pytest.approx(2 / 3)
    assert [c["text"] for c in steps[1]["comments"]] == ["Clear and kind"]
    assert (steps[2]["useful_yes"], steps[2]["useful_no"], steps[2]["useful_rate"]) == (1, 1, 0.5)
    assert [c["text"] for c in steps[2]["comments"]] == ["Helped my brother"]
    assert steps[3]["useful_rate"] is None and steps[3]["comments"] == []
    assert steps[1]["pacing"] == {"next": 1, "weekly": 0, "pause": 0, "usual": 0, "resume": 0}
    assert steps[2]["pacing"] == {"next": 0, "weekly": 1, "pause": 1, "usual": 0, "resume": 0}
    assert (steps[1]["cta_clicks"], steps[1]["cta_clickers"], steps[3]["cta_clicks"]) == (2, 1, 1)
    assert [steps[n]["contacts"] for n in (1, 2, 3)] == [1, 2, 1]
    out = stats.as_dict()
    assert out["contacts"] == 4
    assert out["last_before_contact"] == [
        {"step": 2, "subject": "Step 2", "contacts": 2},
        {"step": 1, "subject": "Step 1", "contacts": 1},
        {"step": 3, "subject": "Step 3", "contacts": 1},
    ]


def test_metrics_count_the_readers_signals(db_url, session_factory, seeded, tmp_path):
    with session_factory() as s:
        totals = learning_totals(s)
    assert totals.useful == {"yes": 3, "no": 2} and totals.cta_clicks == 3 and totals.contacts_attributed == 4
    app = admin_app(db_url, session_factory, tmp_path, clock=lambda: T0 + 10 * D, metrics_token=TOKEN)
    m = samples(TestClient(app).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text)
    assert m[("outreach_reader_pacing_total", (("action", "pause"),))] == 1
    assert m[("outreach_reader_pacing_total", (("action", "next"),))] == 1
    assert m[("outreach_reader_cta_clicks_total", ())] == 3
    assert m[("outreach_useful_answers", (("answer", "yes"),))] == 3
    assert m[("outreach_contacts", (("channel", "call"),))] == 2
    assert m[("outreach_contacts_attributed", ())] == 4


def test_the_export_holds_the_readers_signals_and_erasure_removes_comments_and_contacts(session_factory, seeded):
    _, (_, b, *_), _ = seeded
    with session_factory.begin() as s:
        out = export_subscriber(s, b)
    assert [(x["step"], x["useful"], x["comment"]) for x in out["was_this_useful"]] == [
        (1, True, None),
        (2, True, "Helped my brother"),
    ]
    assert [x["action"] for x in out["email_actions"]] == ["pace_next", "pace_pause"]
    assert [(x["channel"], x["after_step"]) for x in out["contacts"]] == [("text", 2), ("form", 2)]
    assert out["enrollments"][0]["pace"] == "usual"
    with session_factory.begin() as s:
        erase_subscriber(s, b, T0 + 11 * D)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Contact).where(Contact.subscriber_id == b)) == 0
        kept = s.execute(select(LessonFeedback.useful, LessonFeedback.comment).where(LessonFeedback.subscriber_id == b))
        assert sorted(kept.all()) == [(True, None), (True, None)]  # anonymous counts stay, their words go
        assert s.scalar(select(func.count()).select_from(ReaderEvent).where(ReaderEvent.subscriber_id == b)) == 2
