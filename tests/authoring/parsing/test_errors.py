"""Files that cannot be read as articles: one ArticleError naming the file and the line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.authoring.parsing import parse_article
from campaigns.errors import ArticleError, OutreachError

BODY = "This paragraph is plainly body text, with a final period."


def fails(path: Path) -> ArticleError:
    with pytest.raises(ArticleError) as caught:
        parse_article(path)
    err = caught.value
    assert isinstance(err, OutreachError) and err.path == path
    assert str(err).startswith(f"{path}:{err.line}: " if err.line else f"{path}: ")
    return err


def test_missing_file(tmp_path: Path) -> None:
    err = fails(tmp_path / "nowhere.txt")
    assert err.line is None and "no such file" in err.reason


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.md"
    folder.mkdir()
    assert "directory" in fails(folder).reason


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "article.pdf"
    path.write_bytes(b"%PDF-1.7")
    assert "unsupported file type '.pdf'" in fails(path).reason


def test_not_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(f"Title Line\n{BODY}\nCaf\xe9 culture and alcohol.\n".encode("latin-1"))
    err = fails(path)
    assert err.line == 3 and "not UTF-8" in err.reason and "0xe9" in err.reason


def test_binary_content(tmp_path: Path) -> None:
    path = tmp_path / "image.html"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    err = fails(path)
    assert err.line == 2 and "binary" in err.reason


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_text("  \n\n\t\n", encoding="utf-8")
    err = fails(path)
    assert err.line == 1 and "empty" in err.reason


def test_no_body_text_only_headings_and_residue(tmp_path: Path) -> None:
    path = tmp_path / "chrome.txt"
    path.write_text("Share\nFacebook\nA Heading Alone\nAnother Heading\n", encoding="utf-8")
    err = fails(path)
    assert err.line == 3 and "no body text" in err.reason


def test_heading_with_no_body_at_the_end_is_dropped_and_shown(tmp_path: Path) -> None:
    for name, source, line in [
        ("end.txt", f"{BODY}\nFirst Section\n{BODY}\nA Heading Left Dangling\n", 4),
        ("end.md", f"# Title\n\n{BODY}\n\n## First\n\n{BODY}\n\n## Dangling\n", 9),
        (
            "end.html",
            f"<article>\n<h1>T</h1>\n<p>{BODY}</p>\n<h2>First</h2>\n<p>{BODY}</p>\n<h2>Dangling</h2>\n</article>",
            6,
        ),
    ]:
        path = tmp_path / name
        path.write_text(source, encoding="utf-8")
        article = parse_article(path)
        assert [s.heading for s in article.sections] == [
            {"end.txt": "First Section", "end.md": "First", "end.html": "First"}[name]
        ]
        assert [(b.line, b.rule) for b in article.dropped if b.kind == "heading"] == [(line, "heading-without-body")]


def test_html_with_no_article_content(tmp_path: Path) -> None:
    path = tmp_path / "shell.html"
    path.write_text(
        "<html>\n<head><title>Blog</title></head>\n<body>\n<nav><a href='/'>Home</a></nav>\n"
        "<div class='sidebar'><p>Recent posts from our blog and more news.</p></div>\n</body>\n</html>\n",
        encoding="utf-8",
    )
    err = fails(path)
    assert err.line == 3 and "no article content" in err.reason


def test_text_with_no_headings_is_one_section_without_a_heading(tmp_path: Path) -> None:
    for name, source in [("flat.txt", f"\n{BODY}\n{BODY.replace('This', 'That')}\n"), ("plain.html", f"{BODY}\n")]:
        path = tmp_path / name
        path.write_text(source, encoding="utf-8")
        article = parse_article(path)
        assert [s.heading for s in article.sections] == [""] and article.intro == ()
