"""`outreach export subscribers|events|steps` and `outreach subscribers import` with its mapping options."""

from __future__ import annotations

import csv
import io

import pytest


@pytest.fixture(autouse=True)
def _database(cli):
    assert cli("db", "upgrade")[0] == 0


SUBSCRIBERS = "E-mail;Name;Tags\nann@example.org;Ann Lee;donors\nbob@example.org;-2+3;\n"


def test_import_with_options_then_export_the_subscribers(cli, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(SUBSCRIBERS, encoding="utf-8")
    code, out, err = cli(
        "subscribers", "import", str(path), "--timezone", "Europe/Paris", "--consent", "paper form", "--tag", "spring"
    )
    assert code == 0, err
    assert "imported 2 of 2 rows" in out
    code, out, err = cli("export", "subscribers")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["email"], r["timezone"], r["consent_source"], r["tags"]) for r in rows] == [
        ("ann@example.org", "Europe/Paris", "paper form", "donors;spring"),
        ("bob@example.org", "Europe/Paris", "paper form", "spring"),
    ]
    assert rows[1]["name"] == "'-2+3"  # would be a formula in a spreadsheet
    output = tmp_path / "donors.csv"
    code, _, err = cli("export", "subscribers", "--tag", "donors", "-o", str(output))
    assert code == 0 and "wrote 1 subscribers" in err
    assert output.read_text(encoding="utf-8").splitlines()[1].startswith("1,ann@example.org,")


def test_import_refuses_a_bad_map_option_as_a_usage_mistake(cli, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(SUBSCRIBERS, encoding="utf-8")
    code, _, err = cli("subscribers", "import", str(path), "--map", "Name=nickname")
    assert code == 2 and "--map 'Name=nickname'" in err and "outreach subscribers import --help" in err


def test_import_without_a_time_zone_says_how_to_give_one(cli, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(SUBSCRIBERS, encoding="utf-8")
    code, _, err = cli("subscribers", "import", str(path))
    assert code == 1 and "missing column timezone" in err and "default time zone" in err


def test_events_and_steps_exports_and_an_unknown_campaign(cli):
    code, out, _ = cli("export", "events")
    assert code == 0 and out.splitlines() == ["id,occurred_at,kind,campaign,step,email_id,subscriber_id,reason,url"]
    code, out, _ = cli("export", "steps")
    assert code == 0 and out.startswith("campaign,step,subject,sent")
    code, _, err = cli("export", "events", "--campaign", "nope")
    assert code == 1 and "no campaign named 'nope'" in err
