"""The series as staff shape it: the series file's exact round trip, edits as versions with their words in the diff,
merge tags checked at save, kept and dropped blocks planned again, cuts moved (both databases)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaigns.authoring import series_file
from campaigns.authoring.content import StepContent
from campaigns.authoring.draft import SectionDraft, merge_emails, split_email
from campaigns.db.models import CampaignVersion, Enrollment
from campaigns.errors import ArticleError, StateError
from campaigns.management.editing import diff_versions
from campaigns.management.enrollment import enroll_subscribers
from campaigns.management.lifecycle import create_campaign
from campaigns.management.records import current_steps, draft_of, get_campaign
from campaigns.management.series_edits import (
    article_blocks,
    export_series,
    reimport_series,
    replan,
    save_series,
)
from campaigns.settings import PROJECT_ROOT
from tests.builders import subscriber

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"
NOW = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def slug(session_factory, brand) -> str:
    with session_factory.begin() as s:
        create_campaign(s, SEED, "baclofen", brand, NOW, actor="ana")
    return "baclofen"


def versions(factory) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(CampaignVersion))


def test_an_unedited_export_reads_back_as_no_version(session_factory, brand, slug):
    with session_factory() as s:
        text = export_series(s, slug)
        draft = draft_of(s, get_campaign(s, slug))
    assert series_file.read(text) == draft  # the file says exactly what is stored
    assert text.startswith("---\n# outreach campaign reimport baclofen FILE")
    with pytest.raises(StateError, match="nothing to change"), session_factory.begin() as s:
        reimport_series(s, slug, text, "series.md", brand, NOW, actor="bea")
    assert versions(session_factory) == 1


def test_an_edited_file_is_a_version_and_the_diff_shows_its_words(session_factory, brand, slug):
    with session_factory() as s:
        text = export_series(s, slug)
        old_subject = current_steps(s, get_campaign(s, slug))[2].subject
    edited = text.replace(f'subject: "{old_subject}"', 'subject: "{{ first_name }}, is baclofen addictive?"', 1)
    first_body_line = next(line for line in text.split("\n") if line.startswith("Baclofen"))
    edited = edited.replace(first_body_line, first_body_line + " Staff added this sentence.", 1)
    assert edited.count("Staff added this sentence.") == 1
    with session_factory.begin() as s:
        v = reimport_series(s, slug, edited, "series.md", brand, NOW, actor="bea")
        assert v.number == 2 and "subject" in v.note and "words" in v.note
        rows = current_steps(s, get_campaign(s, slug))
        changes = diff_versions(s, slug, 1, 2)
    step3 = rows[2]
    assert step3.subject == "%%first_name%%, is baclofen addictive?"
    content = StepContent(step3.subject, step3.preheader, step3.html, step3.text)
    assert content.fill_subject({"first_name": "Maya"}) == "Maya, is baclofen addictive?"
    assert "{{" not in step3.html + step3.text  # never a literal tag
    assert any("Staff added this sentence." in step.text for step in rows)
    words = [line for c in changes if c.field == "content" for line in c.diff if line.startswith("+")]
    assert any("Staff added this sentence." in line for line in words)
    assert any(c.field == "subject" and c.step == 3 for c in changes)
    inserted = [text for c in changes for kind, text in c.words if kind == "ins"]
    assert "Staff added this sentence." in inserted  # the diff page shows the words, marked


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("Hello {{ nmae }}", "unknown merge tag `nmae` in the subject of email 3; allowed: first_name"),
        ("Hello *|FNAME|*", r"\*\|FNAME\|\* in the subject of email 3 is a Mailchimp merge tag"),
        ("Hello %%FirstName%%", r"%%FirstName%% in the subject of email 3"),
        ("Hello {$name}", r"\{\$name\} in the subject of email 3"),
        ("Hello [first_name]", r"\[first_name\] in the subject of email 3"),
        ("Hello {{ first_name | upper }}", "uses the filter `upper`"),
        ('Hello {{ first_name | default("friend") }}', 'can only be "there"'),
        ("Hello {% if x %}", "not template code"),
        ("Hello {{ first_name", "unclosed merge tag"),
        ("x" * 151, "151 characters; keep it to 150"),
    ],
)
def test_bad_merge_tags_and_subjects_are_refused_by_name(session_factory, brand, slug, subject, message):
    with session_factory() as s:
        draft = draft_of(s, get_campaign(s, slug))
    emails = list(draft.emails)
    emails[2] = replace(emails[2], subject=subject)
    with pytest.raises(StateError, match=message) as refused, session_factory.begin() as s:
        save_series(s, slug, replace(draft, emails=tuple(emails)), brand, NOW, actor="bea")
    assert refused.value.field == "e3-subject"
    assert versions(session_factory) == 1


def test_bad_tags_and_links_in_a_body_are_refused_naming_the_email(session_factory, brand, slug):
    with session_factory() as s:
        draft = draft_of(s, get_campaign(s, slug))
    for body, message in (
        ("Hi {{ nmae }}, more text.", "unknown merge tag `nmae` in the body of email 4"),
        ("Read [this](javascript:alert(1)).", "links go to https://, mailto: or tel:"),
        ("Read [this](http://example.com).", "links go to https://"),
        ("![x](https://example.com/a.png)", "an image in the body of email 4"),
        ("## A heading\n\nText.", "a heading"),
    ):
        emails = list(draft.emails)
        emails[3] = replace(emails[3], sections=(SectionDraft("Heading", body),))
        with pytest.raises(StateError, match=message), session_factory.begin() as s:
            save_series(s, slug, replace(draft, emails=tuple(emails)), brand, NOW, actor="bea")
    assert versions(session_factory) == 1


def test_markdown_bodies_are_sanitised_with_links_kept(session_factory, brand, slug):
    with session_factory() as s:
        draft = draft_of(s, get_campaign(s, slug))
    body = (
        'Hi {{ first_name | default("there") }}, <script>alert(1)</script> **bold** and '
        "[call us](tel:+15550100) or [read more](https://example.org/a?b=1&c=2).\n\n- one\n- two"
    )
    emails = list(draft.emails)
    emails[3] = replace(emails[3], sections=(SectionDraft("New heading", body),))
    with session_factory.begin() as s:
        save_series(s, slug, replace(draft, emails=tuple(emails)), brand, NOW, actor="bea")
        step = current_steps(s, get_campaign(s, slug))[3]
    assert "<script>" not in step.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in step.html
    assert "<strong>bold</strong>" in step.html
    assert 'href="https://example.org/a?b=1&amp;c=2"' in step.html and 'href="tel:+15550100"' in step.html
    assert "Hi %%first_name%%," in step.html and "Hi %%first_name%%," in step.text
    assert "read more (https://example.org/a?b=1&c=2)" in step.text and "call us (+15550100)" in step.text
    assert step.sections == ["New heading"]


def test_merge_and_split_move_where_emails_end(session_factory, brand, slug):
    with session_factory() as s:
        draft = draft_of(s, get_campaign(s, slug))
    n = len(draft.emails)
    merged = merge_emails(draft, 3)
    assert len(merged.emails) == n - 1
    assert merged.emails[2].headings == draft.emails[2].headings + draft.emails[3].headings
    assert draft.emails[0].preheader.startswith("Seven short lessons")
    assert merged.emails[0].preheader.startswith("Six short lessons")  # the welcome counts the lessons again
    with pytest.raises(StateError, match="only two lessons"):
        merge_emails(draft, 1)
    with session_factory.begin() as s:
        save_series(s, slug, merged, brand, NOW, actor="bea", note="merged 3 and 4")
        assert len(current_steps(s, get_campaign(s, slug))) == n - 1
    split = split_email(merged, 3, len(draft.emails[2].sections) + 1)
    assert [e.headings for e in split.emails] == [e.headings for e in draft.emails]
    assert split.emails[3].subject and split.emails[3].preheader
    assert split.emails[0].preheader == draft.emails[0].preheader


def test_dropping_and_keeping_blocks_plans_the_series_again(session_factory, brand, slug):
    with session_factory() as s:
        blocks, parser_rules, overrides = article_blocks(s, slug)
    assert overrides == {}
    toc = next(b for b in blocks if not b.kept)
    assert toc.rule == "contents" and toc.text == "Table of Contents"
    block = next(b for b in blocks if b.kept and b.kind == "paragraph" and len(b.text) > 80)
    with session_factory.begin() as s:
        assert any(block.text[:60] in r.text for r in current_steps(s, get_campaign(s, slug)))
        draft_before = draft_of(s, get_campaign(s, slug))
        save_series(s, slug, replace(draft_before, name="Baclofen, plainly"), brand, NOW, actor="bea")
        replan(s, slug, {block.id: False}, brand, NOW, actor="bea")
        rows = current_steps(s, get_campaign(s, slug))
        draft = draft_of(s, get_campaign(s, slug))
        assert get_campaign(s, slug).title == "Baclofen, plainly"
    assert draft.name == "Baclofen, plainly"  # the series name survives the new plan
    assert draft.overrides == {block.id: False}
    assert not any(block.text[:60] in r.text for r in rows)
    with session_factory() as s:
        blocks, parser_rules, _ = article_blocks(s, slug)
    assert parser_rules[block.id] is None  # the parser kept it; staff dropped it
    dropped = next(b for b in blocks if b.id == block.id)
    assert not dropped.kept and dropped.rule == "staff"
    with session_factory.begin() as s:
        replan(s, slug, {}, brand, NOW, actor="bea")
        assert any(block.text[:60] in r.text for r in current_steps(s, get_campaign(s, slug)))


def test_fewer_emails_complete_those_past_the_new_end(session_factory, brand, slug):
    with session_factory.begin() as s:
        sub = subscriber("pat@example.com", name="Pat", created_at=NOW - timedelta(days=3))
        s.add(sub)
        s.flush()
        enroll_subscribers(s, slug, NOW, actor="ana")
        draft = draft_of(s, get_campaign(s, slug))
        last = len(draft.emails)
        s.execute(Enrollment.__table__.update().values(next_step=last + 0))
    with session_factory.begin() as s:
        save_series(s, slug, merge_emails(merge_emails(draft, 2), 2), brand, NOW, actor="bea")
        e = s.scalar(select(Enrollment))
    assert e.status == "completed"  # it had every email up to the old last one but one: no step is sent twice


def test_a_bad_series_file_names_its_line_and_changes_nothing(session_factory, brand, slug):
    with session_factory() as s:
        text = export_series(s, slug)
    lines = text.split("\n")
    at = lines.index("kind: lesson")
    lines[at] = "kind: lessn"
    with pytest.raises(ArticleError, match=rf"series.md:{at + 1}: kind 'lessn'"), session_factory.begin() as s:
        reimport_series(s, slug, "\n".join(lines), "series.md", brand, NOW, actor="bea")
    lines[at] = "knd: lesson"
    with pytest.raises(ArticleError, match=rf"series.md:{at + 1}: unknown key 'knd'"):
        series_file.read("\n".join(lines))
    with pytest.raises(ArticleError, match=r"series\.md:1: a series file starts"):
        series_file.read("hello")
    assert versions(session_factory) == 1


def test_a_version_made_before_drafts_is_edited_from_its_stored_article(session_factory, brand, slug):
    """Campaigns created before this change have no stored draft: the editor starts from what the article plans,
    with the stored subjects, and the first save stores one."""
    with session_factory.begin() as s:
        s.execute(CampaignVersion.__table__.update().values(series=None))
    with session_factory() as s:
        campaign = get_campaign(s, slug)
        draft = draft_of(s, campaign)
        assert [e.subject for e in draft.emails] == [r.subject for r in current_steps(s, campaign)]
        assert series_file.read(export_series(s, slug)) == draft
    with session_factory.begin() as s:
        save_series(s, slug, replace(draft, name="Renamed"), brand, NOW, actor="bea")
        assert draft_of(s, get_campaign(s, slug)).name == "Renamed"
