"""Subscriber CSV import: validation by line, idempotence, enrollment, header aliases, awkward files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from campaigns.audience.importing import import_csv
from campaigns.audience.subscribers import get_subscriber, list_subscribers
from campaigns.audience.tags import tags_of
from campaigns.db.models import Enrollment, Subscriber
from campaigns.delivery.suppression import suppress
from campaigns.errors import ImportRowError, NotFound
from tests.audience.support import HEADER, count, make_campaign, run_import, snapshot, write_csv
from tests.builders import KEYS


def test_valid_rows_are_imported_with_every_field(session_factory, tmp_path, now):
    path = write_csv(
        tmp_path,
        "ann@example.com,Ann Lee,America/New_York,signup form,2026-11-20T10:04:00-05:00,"
        "203.0.113.9,news; baclofen ;news\n"
        "bob@example.org,,Europe/Berlin,,,,\n",
    )
    report = run_import(session_factory, path, now)
    assert (report.imported, report.rows, report.problems) == (2, 2, [])
    with session_factory() as s:
        ann = get_subscriber(s, "ann@example.com")
        bob = get_subscriber(s, "bob@example.org")
        tags = tags_of(s, [ann.id, bob.id])
    assert (ann.name, ann.timezone, ann.status, ann.consent_source) == (
        "Ann Lee",
        "America/New_York",
        "active",
        "signup form",
    )
    assert ann.consent_at == datetime(2026, 11, 20, 15, 4, tzinfo=UTC)
    assert ann.consent_ip == "203.0.113.9" and tags[ann.id] == ["baclofen", "news"]
    assert ann.email_key == KEYS.of("ann@example.com") and ann.created_at == now
    assert (bob.name, bob.consent_at, tags.get(bob.id)) == (None, None, None)


def test_each_bad_row_is_reported_with_its_line_and_the_good_rows_still_go_in(session_factory, tmp_path, now):
    path = write_csv(
        tmp_path,
        "ok1@example.com,One,UTC,,,,\n"  # line 2
        "not-an-address,Two,UTC,,,,\n"  # line 3
        "three@example.com,Three,Mars/Olympus,,,,\n"  # line 4
        "four@example.com,Four,UTC,,yesterday,,\n"  # line 5
        "five@example.com,Five,UTC,,2026-11-20T10:00:00,,\n"  # line 6: no offset
        "six@example.com,Six,UTC,,2027-01-01T00:00:00Z,,\n"  # line 7: in the future
        "seven@example.com,Seven,UTC,,,300.1.1.1,\n"  # line 8
        ",Eight,UTC,,,,\n"  # line 9
        "nine@example.com,Nine,UTC\n"  # line 10: too few fields
        "ten@example.com,Ten,,,,,\n"  # line 11: no time zone
        "ok2@example.com,Eleven,Asia/Kolkata,,,,\n",
    )  # line 12
    report = run_import(session_factory, path, now)
    lines = [line for line, _ in report.problems]
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    reasons = dict(report.problems)
    assert reasons[3].startswith("bad address")
    assert reasons[4].startswith("bad time zone 'Mars/Olympus'")
    assert reasons[5].startswith("bad consent time 'yesterday'")
    assert "no UTC offset" in reasons[6]
    assert "in the future" in reasons[7]
    assert reasons[8].startswith("bad consent IP")
    assert reasons[9] == "missing email address"
    assert reasons[10] == "expected 7 fields, found 3"
    assert reasons[11].startswith("missing time zone")
    assert report.imported == 2 and report.rows == 11
    with session_factory() as s:
        assert [x.email for x in list_subscribers(s)] == ["ok1@example.com", "ok2@example.com"]


def test_line_numbers_count_physical_lines_with_quoted_newlines(session_factory, tmp_path, now):
    path = write_csv(
        tmp_path,
        '"ann@example.com","Ann\nLee",UTC,,,,\n'  # lines 2-3
        "\n"  # line 4: blank, ignored
        "bad@,Bob,UTC,,,,\n",
    )  # line 5
    report = run_import(session_factory, path, now)
    assert [line for line, _ in report.problems] == [5]
    assert report.imported == 1


def test_duplicates_in_the_file_name_the_first_line_ignoring_case(session_factory, tmp_path, now):
    path = write_csv(
        tmp_path,
        "ann@example.com,Ann,UTC,,,,\n"  # line 2
        "bob@example.com,Bob,UTC,,,,\n"  # line 3
        "ANN@Example.COM,Ann again,UTC,,,,\n"  # line 4
        " ann@EXAMPLE.com ,Ann 3,UTC,,,,\n",
    )  # line 5
    report = run_import(session_factory, path, now)
    assert report.problems == [(4, "duplicate of line 2"), (5, "duplicate of line 2")]
    assert report.imported == 2
    with session_factory() as s:
        assert get_subscriber(s, "ann@example.com").name == "Ann"


def test_addresses_are_normalised_and_unique_case_insensitively(session_factory, tmp_path, now):
    run_import(session_factory, write_csv(tmp_path, "Ann@Example.COM,Ann,UTC,,,,\n", name="a.csv"), now)
    report = run_import(session_factory, write_csv(tmp_path, "ann@example.com,Ann,UTC,,,,\n", name="b.csv"), now)
    assert (report.imported, report.skipped_existing) == (0, 1)
    assert count(session_factory, Subscriber) == 1
    with session_factory() as s:
        ann = get_subscriber(s, "ANN@EXAMPLE.COM")
    assert ann.email == "Ann@example.com"  # email-validator lower-cases the domain, keeps the local part
    assert ann.email_key == KEYS.of("ann@example.com")


def test_already_subscribed_are_skipped_and_left_unchanged(session_factory, tmp_path, now):
    run_import(session_factory, write_csv(tmp_path, "ann@example.com,Ann,UTC,,,,\n", name="a.csv"), now)
    later = now + timedelta(days=1)
    path = write_csv(
        tmp_path, "ann@example.com,Someone Else,Europe/Paris,,,,\nbob@example.com,Bob,UTC,,,,\n", name="b.csv"
    )
    report = run_import(session_factory, path, later)
    assert (report.imported, report.skipped_existing, report.problems) == (1, 1, [])
    with session_factory() as s:
        ann = get_subscriber(s, "ann@example.com")
    assert (ann.name, ann.timezone, ann.created_at) == ("Ann", "UTC", now)


def test_suppressed_addresses_are_skipped_and_counted(session_factory, tmp_path, now):
    with session_factory.begin() as s:
        suppress(s, "gone@example.com", "complaint", "sendgrid", now)
    path = write_csv(tmp_path, "GONE@example.com,Gone,UTC,,,,\nann@example.com,Ann,UTC,,,,\n")
    report = run_import(session_factory, path, now)
    assert (report.imported, report.suppressed, report.problems) == (1, 1, [])
    with session_factory() as s:
        assert [x.email for x in list_subscribers(s)] == ["ann@example.com"]


def test_importing_the_same_file_twice_changes_nothing(session_factory, tmp_path, now):
    make_campaign(session_factory, now)
    path = write_csv(tmp_path, "ann@example.com,Ann,UTC,,,,\nbob@example.com,Bob,UTC,,,,\nbad,X,UTC,,,,\n")
    first = run_import(session_factory, path, now, campaign_slug="drip")
    before = snapshot(session_factory)
    second = run_import(session_factory, path, now + timedelta(hours=1), campaign_slug="drip")
    assert (first.imported, first.enrolled) == (2, 2)
    assert (second.imported, second.enrolled, second.skipped_existing) == (0, 0, 2)
    assert second.problems == first.problems == [(4, first.problems[0][1])]
    assert snapshot(session_factory) == before


def test_dry_run_reports_and_writes_nothing(session_factory, tmp_path, now):
    make_campaign(session_factory, now)
    run_import(session_factory, write_csv(tmp_path, "old@example.com,Old,UTC,,,,\n", name="a.csv"), now)
    path = write_csv(tmp_path, "old@example.com,Old,UTC,,,,\nnew@example.com,New,UTC,,,,\nbad,X,UTC,,,,\n")
    before = snapshot(session_factory)
    report = run_import(session_factory, path, now, campaign_slug="drip", dry_run=True)
    assert report.dry_run
    assert (report.imported, report.enrolled, report.skipped_existing) == (1, 2, 1)
    assert [line for line, _ in report.problems] == [4]
    assert snapshot(session_factory) == before
    assert count(session_factory, Enrollment) == 0


@pytest.mark.parametrize(
    "header, message",
    [
        ("name,timezone\n", "missing column email"),
        ("email,name\n", "missing column timezone"),
        ("email,name,timezone,favourite_colour\n", "unknown column favourite_colour"),
        ("email,email,timezone\n", "column email appears twice"),
        ("", "the file is empty"),
    ],
)
def test_a_bad_header_stops_the_import_naming_the_file(session_factory, tmp_path, now, header, message):
    path = write_csv(tmp_path, "ann@example.com,Ann,UTC\n" if header else "", header=header)
    with pytest.raises(ImportRowError, match=message) as err:
        run_import(session_factory, path, now)
    assert str(path) in str(err.value)
    assert count(session_factory, Subscriber) == 0


def test_header_names_are_matched_loosely_and_a_bom_is_ignored(session_factory, tmp_path, now):
    path = tmp_path / "excel.csv"
    path.write_text("\ufeffEmail , TimeZone,Name\nann@example.com,UTC,Ann\n", encoding="utf-8")
    assert run_import(session_factory, path, now).imported == 1


def test_import_enrolls_new_and_existing_active_subscribers(session_factory, tmp_path, now):
    cid = make_campaign(session_factory, now)
    run_import(
        session_factory,
        write_csv(tmp_path, "old@example.com,Old,UTC,,,,\nleft@example.com,L,UTC,,,,\n", name="a.csv"),
        now,
    )
    with session_factory.begin() as s:
        get_subscriber(s, "left@example.com").status = "unsubscribed"
    later = now + timedelta(days=2)
    path = write_csv(tmp_path, "old@example.com,Old,UTC,,,,\nleft@example.com,L,UTC,,,,\nnew@example.com,N,UTC,,,,\n")
    report = run_import(session_factory, path, later, campaign_slug="drip")
    assert (report.imported, report.skipped_existing, report.enrolled) == (1, 2, 2)
    with session_factory() as s:
        rows = s.execute(
            select(Subscriber.email, Enrollment)
            .join(Enrollment, Enrollment.subscriber_id == Subscriber.id)
            .order_by(Subscriber.email)
        ).all()
    assert [email for email, _ in rows] == ["new@example.com", "old@example.com"]
    for _, e in rows:
        assert (e.campaign_id, e.next_step, e.next_due_at, e.status, e.enrolled_at) == (cid, 1, None, "active", later)


def test_unknown_campaign_is_named_and_nothing_is_written(session_factory, tmp_path, now):
    path = write_csv(tmp_path, "ann@example.com,Ann,UTC,,,,\n")
    with pytest.raises(NotFound, match="no-such-drip"):
        run_import(session_factory, path, now, campaign_slug="no-such-drip")
    assert count(session_factory, Subscriber) == 0


def test_large_import_uses_a_few_bulk_statements_not_one_per_row(session_factory, tmp_path, now):
    make_campaign(session_factory, now)
    n = 12_000
    path = write_csv(tmp_path, "".join(f"p{i}@example.com,P {i},UTC,,,,\n" for i in range(n)))
    statements: list[str] = []
    engine = session_factory.kw["bind"]
    listener = lambda conn, cursor, stmt, params, context, many: statements.append(stmt)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        report = run_import(session_factory, path, now, campaign_slug="drip")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert (report.imported, report.enrolled) == (n, n)
    assert count(session_factory, Enrollment) == n
    # Lookups go by chunks of 5,000 keys and inserts by many rows at a time: far fewer statements than rows (one
    # more SELECT is the address key's check, once per session).
    assert len([x for x in statements if x.lstrip().upper().startswith("SELECT")]) <= 11
    assert len(statements) < 100


def test_spreadsheet_headers_are_recognised_and_first_and_last_names_joined(session_factory, tmp_path, now):
    path = tmp_path / "export.csv"
    path.write_bytes(
        "\ufeffE-mail Address;First name;Last Name;Time Zone;Labels\r\n"
        'ann@example.com;Ann;Lee;Europe/Paris;"Donors; Board"\r\n'.encode()
    )
    with session_factory.begin() as s:
        report = import_csv(s, path, now=now)
    assert (report.imported, report.problem_count) == (1, 0)
    with session_factory() as s:
        ann = get_subscriber(s, "ann@example.com")
        assert (ann.name, ann.timezone) == ("Ann Lee", "Europe/Paris")
        assert tags_of(s, [ann.id])[ann.id] == ["board", "donors"]


def test_a_latin1_file_with_a_default_time_zone_and_a_consent_statement(session_factory, tmp_path, now):
    path = tmp_path / "latin1.csv"
    path.write_bytes("Email;Name\nfrancois@example.com;Fran\u00e7ois M\u00fcller\n".encode("cp1252"))
    with session_factory.begin() as s:
        report = import_csv(s, path, now=now, default_timezone="Europe/Paris", consent="paper form, open day")
    assert report.imported == 1
    with session_factory() as s:
        person = get_subscriber(s, "francois@example.com")
    assert (person.name, person.timezone, person.consent_source) == (
        "Fran\u00e7ois M\u00fcller",
        "Europe/Paris",
        "paper form, open day",
    )


def test_an_unclosed_quote_is_one_problem_and_every_row_after_it_is_imported(session_factory, tmp_path, now):
    path = write_csv(
        tmp_path,
        'ann@example.com,"Ann,UTC,,,,\n'  # line 2: the quote is never closed
        "bob@example.com,Bob,UTC,,,,\n"
        "cat@example.com,Cat,UTC,,,,\n",
    )
    report = run_import(session_factory, path, now)
    assert [line for line, _ in report.problems] == [2] and "never closed" in report.problems[0][1]
    assert (report.imported, report.rows) == (2, 3)
    with session_factory() as s:
        assert [x.email for x in list_subscribers(s)] == ["bob@example.com", "cat@example.com"]


def test_columns_can_be_mapped_or_left_out_by_name(session_factory, tmp_path, now):
    path = tmp_path / "crm.csv"
    path.write_text("Contact,Notes,Zone\nann@example.com,likes tea,UTC\n", encoding="utf-8")
    with session_factory.begin() as s, pytest.raises(ImportRowError, match="unknown column Contact"):
        import_csv(s, path, now=now)
    with session_factory.begin() as s:
        report = import_csv(s, path, now=now, columns={"Contact": "email", "notes": "ignore"})
    assert report.imported == 1


def test_a_tag_for_everyone_reaches_new_and_existing_subscribers(session_factory, tmp_path, now):
    run_import(session_factory, write_csv(tmp_path, "old@example.com,Old,UTC,,,,\n", name="a.csv"), now)
    path = write_csv(tmp_path, "old@example.com,Old,UTC,,,,\nnew@example.com,New,UTC,,,,\n")
    report = run_import(session_factory, path, now, tag_all="Open Day")
    assert (report.imported, report.skipped_existing, report.tagged) == (1, 1, 2)
    with session_factory() as s:
        ids = [get_subscriber(s, a).id for a in ("old@example.com", "new@example.com")]
        assert tags_of(s, ids) == {ids[0]: ["open day"], ids[1]: ["open day"]}


def test_a_resumed_import_goes_on_after_its_committed_rows(session_factory, tmp_path, now):
    from campaigns.audience.columns import strict_plan
    from campaigns.audience.csv_files import detect_format
    from campaigns.audience.importing import ImportReport, import_batches

    body = "".join(f"p{i}@example.com,P {i},UTC,,,,\n" for i in range(10)) + "p3@example.com,Again,UTC,,,,\n"
    path = write_csv(tmp_path, body)
    fmt = detect_format(path)
    plan = strict_plan(HEADER.strip().split(","), "people.csv")
    with session_factory() as s:  # the first run: one batch of 4 committed, then the process died
        batches = import_batches(s, path, fmt, plan, now, batch=4)
        first = next(batches)
        s.commit()
        saved = first.as_dict()
    assert saved["rows"] == 4
    with session_factory.begin() as s:
        last = list(import_batches(s, path, fmt, plan, now, batch=4, resume=ImportReport.from_dict(saved)))[-1]
    assert (last.imported, last.skipped_existing, last.rows) == (10, 0, 11)
    assert last.problems == [(12, "duplicate of line 5")]  # found though line 5 was read before the resume
    assert count(session_factory, Subscriber) == 10


def test_control_characters_are_cleaned_and_a_nul_cell_is_one_line_not_a_crash(session_factory, tmp_path, now):
    """Issue 19, points 8 and 9: one NUL cell used to abort the whole import on PostgreSQL with a traceback."""
    path = write_csv(
        tmp_path,
        "ann@example.com,Ann\x00 Lee,UTC,open\x1b[2J day,,,news;\x07alerts\n"
        "b\x00b@example.com,Bob,UTC,,,,\n"
        "cy@example.com,Cy,Europe/\x00Berlin,,,,\n"
        "dee@example.com,Dee\u202e,UTC,,,,\n",
    )
    report = run_import(session_factory, path, now)
    assert report.imported == 2
    assert [line for line, _ in report.problems] == [3, 4]
    assert "control character" in report.problems[0][1] and "time zone" in report.problems[1][1]
    with session_factory() as s:
        ann, dee = get_subscriber(s, "ann@example.com"), get_subscriber(s, "dee@example.com")
        assert tags_of(s, [ann.id])[ann.id] == ["alerts", "news"]
    assert (ann.name, ann.consent_source) == ("Ann Lee", "open[2J day")
    assert dee.name == "Dee"


def test_addresses_are_refused_or_kept_as_they_can_be_sent(session_factory, tmp_path, now):
    """Issue 19, point 10: a non-ASCII local part is a line-numbered problem, an IDN domain is kept."""
    path = write_csv(tmp_path, "josé@example.com,José,UTC,,,,\nidn@Bücher.de,Idn,UTC,,,,\n")
    report = run_import(session_factory, path, now)
    assert report.imported == 1
    [(line, reason)] = report.problems
    assert line == 2 and "accented or non-Latin letters before the @" in reason
    with session_factory() as s:
        assert get_subscriber(s, "idn@xn--bcher-kva.de").email == "idn@bücher.de"


def test_first_name_and_country_columns_are_read_and_checked(session_factory, tmp_path, now):
    """Issue 15: the greeting's first name and the country (for the crisis lines) come in from a file too."""
    path = write_csv(
        tmp_path,
        "jane@mail.example.com,Dr. Jane Smith,Janie,America/New_York,\n"
        "hannah@mail.example.com,Hannah Wright,,UTC,gb\n"
        "tom@mail.example.com,Tom Becker,,Europe/Berlin,Germany\n"
        "li@mail.example.com,李小龙,,Asia/Hong_Kong,\n",
        header="email,name,first_name,timezone,country\n",
    )
    report = run_import(session_factory, path, now)
    assert report.problems == [(4, "bad country 'Germany' (use a two-letter ISO 3166 code such as US, GB or DE)")]
    with session_factory() as s:
        rows = {r.email: (r.name, r.first_name, r.country) for r in s.scalars(select(Subscriber))}
    assert rows == {
        "jane@mail.example.com": ("Dr. Jane Smith", "Janie", None),
        "hannah@mail.example.com": ("Hannah Wright", None, "GB"),  # stored as the code, in capitals
        "li@mail.example.com": ("李小龙", None, None),
    }


def test_first_and_last_name_columns_make_the_name_and_the_first_is_the_greeting(session_factory, tmp_path, now):
    path = tmp_path / "crm.csv"
    path.write_text("Email,First Name,Surname,Time Zone\nann@example.com,Ann,Lee,UTC\n", encoding="utf-8")
    with session_factory.begin() as s:
        assert import_csv(s, path, now=now).imported == 1
    with session_factory() as s:
        ann = get_subscriber(s, "ann@example.com")
    assert (ann.name, ann.first_name) == ("Ann Lee", "Ann")
