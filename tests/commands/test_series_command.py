"""`outreach series plan` and `outreach preview` as a person runs them: real processes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from campaigns.settings import PROJECT_ROOT

SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"


def outreach(*args: str, cwd=PROJECT_ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "outreach", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **env},
    )


def test_plan_json_has_the_contract_shape():
    r = outreach("series", "plan", str(SEED), "--json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["title"] == "Baclofen Misuse" and len(plan["steps"]) == 9
    for n, step in enumerate(plan["steps"], 1):
        assert step["number"] == n
        assert {"subject", "preheader", "sections", "words", "delay_days"} <= set(step)
    assert [s["delay_days"] for s in plan["steps"]] == [0] + [2] * 8


def test_plan_table_and_delay_option():
    r = outreach("series", "plan", str(SEED), "--delay", "3")
    assert r.returncode == 0 and "How Does Baclofen Work" in r.stdout and "+3d" in r.stdout


def test_preview_formats():
    html = outreach("preview", str(SEED), "--step", "2", "--format", "html")
    text = outreach("preview", str(SEED), "--step", "2", "--format", "text")
    mjml = outreach("preview", str(SEED), "--step", "2", "--format", "mjml")
    assert html.returncode == text.returncode == mjml.returncode == 0
    assert html.stdout.lstrip().lower().startswith("<!doctype html") and "GABA" in html.stdout
    assert "<" not in text.stdout.split("\n", 3)[0] and "GABA" in text.stdout
    assert "<mjml" in mjml.stdout and "%%" not in html.stdout  # sample values filled in


def test_preview_open_writes_a_file(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "outreach", "preview", str(SEED), "--step", "9", "--open"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        env={"OUTREACH_OUTBOX_DIR": str(tmp_path / "outbox"), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    written = tmp_path / "preview" / "baclofen-misuse-article-step-09.html"
    assert r.stdout.strip() == str(written) and "Contact Agape Detox" in written.read_text()


def test_step_out_of_range_is_one_clear_line():
    r = outreach("preview", str(SEED), "--step", "42")
    assert r.returncode == 1
    assert "step 42 does not exist" in r.stderr and "Traceback" not in r.stderr


def test_unreadable_article_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"A Title\nGood first line of text here.\n\xff\xfe not text\n")
    r = outreach("series", "plan", str(bad))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{bad}:3" in r.stderr.replace("\n", "")


def test_help_lists_every_command():
    r = outreach("--help")
    for command in ("series", "preview", "demo", "worker", "beat", "subscribers", "campaign", "db", "serve", "stats"):
        assert command in r.stdout


KRATOM = PROJECT_ROOT / "tests" / "fixtures" / "articles" / "kratom-what-families-should-know.html"
PASTED = """Home > Blog > Recovery
Coming Back From a Relapse

By Jane Doe
March 3, 2024

A relapse can feel like the end of recovery, but for most people it is one step in a longer process of change.

What a Relapse Means

It means the plan needs adjusting, not that the effort was wasted. Many people relapse before they find what works.

Share this article
Facebook
LinkedIn
"""


def test_plan_lists_what_was_left_out_with_the_rule():
    r = outreach("series", "plan", str(KRATOM))
    assert r.returncode == 0, r.stderr
    assert "Left out:" in r.stdout
    for rule in ("contents", "share-bar", "call-out", "page-chrome"):
        assert rule in r.stdout
    assert "a share bar or share buttons" in r.stdout  # each rule says what it drops
    plan = json.loads(outreach("series", "plan", str(KRATOM), "--json").stdout)
    dropped = plan["dropped"]
    assert {"id", "line", "text", "rule", "why"} <= set(dropped[0])
    callout = [d for d in dropped if d["rule"] == "call-out"]
    assert any("Worried about a loved one" in d["text"] for d in callout)


def test_plan_reads_pasted_text_from_standard_input():
    r = subprocess.run(
        [sys.executable, "-m", "outreach", "series", "plan", "-", "--json"],
        input=PASTED,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["title"] == "Coming Back From a Relapse"

    def rule_of(words: str) -> str:
        return next(d["rule"] for d in plan["dropped"] if words in d["text"])

    assert rule_of("Home > Blog") == "breadcrumb"
    assert rule_of("By Jane Doe") == rule_of("March 3, 2024") == "post-info"
    assert rule_of("Facebook") == "share-bar"
    assert [s["sections"] for s in plan["steps"][1:-1]] == [["What a Relapse Means"]]


def test_plan_and_preview_of_a_web_page(tmp_path):
    from fastapi import FastAPI, Response

    from tests.browser import served

    def make_app(base: str) -> FastAPI:
        app = FastAPI()
        app.get("/kratom")(lambda: Response(KRATOM.read_bytes(), media_type="text/html; charset=utf-8"))
        return app

    # The page is on 127.0.0.1: reachable only with the setting that lifts the guard against private addresses.
    local = {"OUTREACH_FETCH_PRIVATE_ADDRESSES": "true"}
    with served(make_app) as base:
        plan = outreach("series", "plan", f"{base}/kratom", "--json", "--title", "Kratom for Families", **local)
        text = outreach("preview", f"{base}/kratom", "--step", "2", "--format", "text", **local)
        missing = outreach("series", "plan", f"{base}/missing", **local)
        guarded = outreach("series", "plan", f"{base}/kratom")
    assert guarded.returncode == 1 and "127.0.0.1 is a private or local address" in guarded.stderr
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["title"] == "Kratom for Families"
    assert text.returncode == 0 and "kratom" in text.stdout.lower()
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert f"{base}/missing: the server answered 404 Not Found" in missing.stderr.replace("\n", "")
