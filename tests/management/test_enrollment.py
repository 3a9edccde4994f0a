"""Enrolling subscribers (all, by tag, from a CSV) and test sends that touch nothing (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaigns.db.models import (
    AuditEntry,
    Campaign,
    Delivery,
    Enrollment,
    Event,
    Subscriber,
)
from campaigns.delivery.providers.base import RecordingProvider
from campaigns.delivery.suppression import suppress
from campaigns.errors import StateError
from campaigns.management.enrollment import enroll_csv, enroll_subscribers
from campaigns.management.previews import send_test
from tests.builders import KEYS, START, give_tags, make_campaign


def people(factory, *specs: tuple[str, str, list[str]]) -> None:
    with factory.begin() as s:
        for name, status, tags in specs:
            address = f"{name}@example.com"
            sub = Subscriber(
                email=address, email_key=KEYS.of(address), name=name, timezone="UTC", status=status, created_at=START
            )
            s.add(sub)
            s.flush()
            give_tags(s, sub.id, *tags)


def enrolled(factory) -> list[str]:
    with factory() as s:
        return sorted(s.scalars(select(Subscriber.name).join(Enrollment, Enrollment.subscriber_id == Subscriber.id)))


def test_enroll_all_takes_only_active_unsuppressed_people_and_is_idempotent(session_factory):
    make_campaign(session_factory, status="draft")
    people(
        session_factory,
        ("ann", "active", []),
        ("bob", "unsubscribed", []),
        ("cat", "active", []),
        ("dan", "pending", []),
        ("eve", "active", []),
    )
    with session_factory.begin() as s:
        suppress(s, "eve@example.com", "complaint", "test", START)
    with session_factory.begin() as s:
        first = enroll_subscribers(s, "test", START, actor="ana", page=1)  # page 1: the cursor walk is exercised
    with session_factory.begin() as s:
        again = enroll_subscribers(s, "test", START, actor="ana")
    assert (first.enrolled, first.already, again.enrolled, again.already) == (2, 0, 0, 2)
    assert enrolled(session_factory) == ["ann", "cat"]
    with session_factory() as s:
        assert s.scalars(select(AuditEntry.detail)).first() == "all active subscribers: 2 new, 0 already enrolled"


def test_enroll_by_tag(session_factory):
    make_campaign(session_factory, status="running")
    people(
        session_factory,
        ("ann", "active", ["Families", "newsletter"]),
        ("bob", "active", ["newsletter"]),
        ("cat", "active", []),
    )
    with session_factory.begin() as s:
        report = enroll_subscribers(s, "test", START, actor="ana", tag="families")
    assert report.enrolled == 1 and enrolled(session_factory) == ["ann"]


def test_a_tag_that_matches_nobody_is_refused_and_changes_nothing(session_factory):
    make_campaign(session_factory, status="running")
    people(session_factory, ("ann", "active", ["newsletter"]), ("bob", "unsubscribed", ["families"]))
    with pytest.raises(StateError) as refused, session_factory.begin() as s:
        enroll_subscribers(s, "test", START, actor="ana", tag="Families")
    assert str(refused.value) == "no active subscriber has the tag 'families': nobody was enrolled"
    assert refused.value.field == "tag"  # shown beside the tag field in the admin
    with pytest.raises(StateError, match="type the tag"), session_factory.begin() as s:
        enroll_subscribers(s, "test", START, actor="ana", tag="  ")
    with session_factory() as s:
        assert enrolled(session_factory) == [] and s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_enroll_all_with_nobody_to_enroll_says_so(session_factory):
    make_campaign(session_factory, status="draft")
    with (
        pytest.raises(StateError, match="there are no active subscribers to enroll yet") as refused,
        session_factory.begin() as s,
    ):
        enroll_subscribers(s, "test", START, actor="ana")
    assert refused.value.cli_hint == "`outreach subscribers import FILE` adds some"


def test_enroll_from_a_csv_uses_the_subscriber_import(session_factory, tmp_path):
    make_campaign(session_factory, status="draft")
    csv = tmp_path / "people.csv"
    csv.write_text("email,name,timezone\nfay@example.com,Fay,Europe/Berlin\nnot-an-address,Gus,UTC\n", encoding="utf-8")
    with session_factory.begin() as s:
        report = enroll_csv(s, "test", csv, START, actor="ana")
    assert (report.imported, report.enrolled, [line for line, _ in report.problems]) == (1, 1, [3])
    assert enrolled(session_factory) == ["Fay"]


@pytest.mark.parametrize("status", ["completed", "archived"])
def test_no_enrolment_into_a_finished_campaign(session_factory, status):
    make_campaign(session_factory, status=status)
    people(session_factory, ("ann", "active", []))
    with pytest.raises(StateError, match=f"it is {status}"), session_factory.begin() as s:
        enroll_subscribers(s, "test", START, actor="ana")
    assert enrolled(session_factory) == []


def test_a_test_send_goes_to_staff_only_and_touches_no_enrollment_delivery_or_event(session_factory, brand, settings):
    cid = make_campaign(session_factory, status="running")
    people(session_factory, ("ann", "active", []))
    with session_factory.begin() as s:
        enroll_subscribers(s, "test", START, actor="ana")

    def snapshot():
        with session_factory() as s:
            return (
                s.execute(
                    select(
                        Enrollment.id,
                        Enrollment.next_step,
                        Enrollment.next_due_at,
                        Enrollment.status,
                        Enrollment.last_sent_at,
                    )
                ).all(),
                s.scalar(select(func.count()).select_from(Delivery)),
                s.scalar(select(func.count()).select_from(Event)),
                s.execute(select(Campaign.status, Campaign.current_version)).all(),
            )

    before = snapshot()
    provider = RecordingProvider()
    with session_factory.begin() as s:
        results = send_test(
            s,
            "test",
            2,
            ["Staff.One@Example.com", "staff.two@example.com", "staff.two@example.com"],
            provider,
            brand,
            settings,
            START,
            actor="ana",
        )
    assert snapshot() == before
    (batch,) = provider.batches
    assert batch.is_test and batch.step == 2 and "test" in batch.categories
    # Marked in the subject, addressed to the staff address alone (no made-up name), greeted like a nameless reader.
    assert batch.content.subject == "[Test] Step 2"
    assert [(r.delivery_id, r.email, r.name, r.values["first_name"]) for r in batch.recipients] == [
        (0, "Staff.One@example.com", None, "there"),
        (0, "staff.two@example.com", None, "there"),
    ]
    html, _ = batch.content.fill(batch.recipients[0].values)
    assert "step 2" in html and "Hi there" in html and "Sam" not in html
    # Its links name the sample subscriber, whose pages say it was a test (tests/web/test_first_contact_pages.py).
    assert "/u/" in batch.recipients[0].values["unsubscribe_url"]
    assert [r.status for r in results] == ["accepted", "accepted"]
    with session_factory() as s:
        detail = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "test sent")).one()
    assert detail == "step 2 (version 1) to 2 staff address(es), 2 accepted"  # no address is logged
    with pytest.raises(StateError, match="test address 'nobody'"), session_factory.begin() as s:
        send_test(s, "test", 2, ["nobody"], provider, brand, settings, START, actor="ana")
    assert cid and len(provider.batches) == 1
