"""Main-content extractors measured on the corpus's HTML articles (issue 14, point 1).

Needs, in a scratch virtual environment (these are not the project's dependencies):
    python3 -m venv /tmp/extvenv
    /tmp/extvenv/bin/pip install trafilatura readability-lxml lxml_html_clean justext boilerpy3 goose3 newspaper4k \
        beautifulsoup4 markdown-it-py
Run from the project root:
    /tmp/extvenv/bin/python bench/extractors.py [--repeat N] [--per-article] [--only NAME,...] [--markdown FILE]
An extractor whose package is missing is skipped with a note. The project's own parser is measured too when
`campaigns` imports in that environment (it needs beautifulsoup4 and markdown-it-py).
Measured here (trafilatura 2.3.1, readability-lxml 0.9, jusText 3.0.2, boilerpy3 1.0.7, goose3 3.1.22, newspaper4k
0.9.6): see bench/results/extractors.md.

For every .html/.htm article in tests/fixtures/articles that has a NAME.expect.toml sidecar
(see tests/authoring/test_corpus.py), each extractor's output is compared with the sidecar:
  body      share of the expected body sentences found (as words) in the extracted text
  residue   residue strings (navigation, sidebars, call-outs, forms, comments...) found in the extracted text: the
            total over all pages, and on how many pages any was found
  bio       share of the expected author-bio sentences kept
  title     pages whose extracted title is the expected one (as words), and again after dropping a trailing
            ' | Site' / ' - Site' part
  headings  share of the expected h2-h4 headings found as heading elements in the output, and share of consecutive
            found pairs whose relative level (deeper / same / shallower) is kept
  lists     share of the expected sentences that sit in an <li> of the article and come out in a list item
  tables    same for table cells
  ms/page   CPU milliseconds per page (process time, so a busy machine matters less), median over the pages
            of the best of N runs
Extractors with text output only (jusText, boilerpy3, goose3) score n/a for headings, lists and tables.
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
import sys
import time
import tomllib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "articles"
warnings.filterwarnings("ignore")


# Comparing text -------------------------------------------------------------------------------------------------------


def norm(text: str) -> str:
    text = re.sub(r"\[\d+(?:[,\u2013-]\s*\d+)*\]", " ", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def holds(haystack: str, needle: str) -> bool:
    return bool(needle) and f" {needle} " in f" {haystack} "


def residue_in(text: str, normed: str, residue: str) -> bool:
    """As tests/authoring/test_corpus.py: strings of two words or more as words, shorter ones as written."""
    return holds(normed, norm(residue)) if len(norm(residue).split()) > 1 else residue in text


SITE_SUFFIX = re.compile(r"\s+[|\u2013\u2014-]\s+[^|\u2013\u2014]+$")


# What an extractor gives back -----------------------------------------------------------------------------------------


@dataclass
class Output:
    text: str
    title: str | None = None
    # (kind, level, text): kind is h, p, li, cell; None when the extractor gives text only
    blocks: list[tuple[str, int, str]] | None = None


def blocks_from_html(fragment: str) -> list[tuple[str, int, str]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(fragment, "html.parser")
    out = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th"]):
        text = " ".join(el.get_text(" ").split())
        if not text:
            continue
        if el.name[0] == "h" and el.name[1:].isdigit():
            out.append(("h", int(el.name[1]), text))
        elif el.name == "li":
            out.append(("li", 0, text))
        elif el.name in ("td", "th"):
            out.append(("cell", 0, text))
        else:
            out.append(("p", 0, text))
    return out


def blocks_from_trafilatura(body) -> list[tuple[str, int, str]]:
    out = []
    for el in body.iter():
        text = " ".join("".join(el.itertext()).split())
        if not text:
            continue
        if el.tag == "head":
            rend = el.get("rend") or "h2"
            out.append(("h", int(rend[1]) if rend[1:].isdigit() else 2, text))
        elif el.tag == "item":
            out.append(("li", 0, text))
        elif el.tag == "cell":
            out.append(("cell", 0, text))
        elif el.tag == "p":
            out.append(("p", 0, text))
    return out


def html_text(fragment: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(fragment, "html.parser").get_text("\n")


# The extractors -------------------------------------------------------------------------------------------------------


def trafilatura_variant(**options) -> Callable[[str], Output]:
    import trafilatura

    def run(page: str) -> Output:
        doc = trafilatura.bare_extraction(page, with_metadata=True, **options)
        if doc is None:
            return Output("", None, [])
        text = "\n".join(
            " ".join(el.itertext())
            for el in doc.body.iter()
            if el.tag in ("p", "head", "item", "cell", "quote") or (el.tag == "graphic" and el.get("title"))
        )
        return Output(text or (doc.text or ""), doc.title, blocks_from_trafilatura(doc.body))

    return run


def readability_run(page: str) -> Output:
    from readability import Document

    doc = Document(page)
    summary = doc.summary(html_partial=True)
    return Output(html_text(summary), doc.short_title(), blocks_from_html(summary))


def justext_run(page: str) -> Output:
    import justext

    paras = [p for p in justext.justext(page.encode("utf-8"), justext.get_stoplist("English")) if not p.is_boilerplate]
    return Output("\n".join(p.text for p in paras), None, None)


def boilerpy3_run(page: str) -> Output:
    from boilerpy3 import extractors

    doc = extractors.ArticleExtractor(raise_on_failure=False).get_doc(page)
    return Output(doc.content, doc.title, None)


def goose3_run(page: str) -> Output:
    from goose3 import Goose

    with Goose({"enable_image_fetching": False, "use_meta_language": False, "target_language": "en"}) as g:
        art = g.extract(raw_html=page)
        return Output(art.cleaned_text or "", art.title, None)


def newspaper_run(page: str) -> Output:
    import newspaper

    art = newspaper.Article("https://example.org/article", keep_article_html=True, fetch_images=False)
    art.download(input_html=page)
    art.parse()
    blocks = blocks_from_html(art.article_html) if art.article_html else None
    return Output(art.text or "", art.title, blocks)


def outreach_run(page: str) -> Output:
    """The project's own HTML reader (campaigns.authoring.parsing.from_html: trafilatura and the project's rules),
    flattened to blocks."""
    from campaigns.authoring.parsing.from_html import parse_html

    try:
        art = parse_html(page, Path("page.html"))
    except Exception:
        return Output("", None, [])
    blocks = []
    for b in art.intro:
        blocks += _outreach_blocks(b)
    for s in [*art.sections, *([art.closing] if art.closing else [])]:
        if s.heading:
            blocks.append(("h", s.level, s.heading))
        for b in s.blocks:
            blocks += _outreach_blocks(b)
    lines = [art.title] + [t for _, _, t in blocks] + ([art.author_bio] if art.author_bio else [])
    return Output("\n".join(lines), art.title, blocks)


def _outreach_blocks(b) -> list[tuple[str, int, str]]:
    from campaigns.authoring.article import BulletList, Table

    if isinstance(b, Table):
        return [("cell", 0, c) for row in b.rows for c in row if c]
    if isinstance(b, BulletList):
        return [("li", 0, i) for i in b.items]
    return [("p", 0, b.text)]


EXTRACTORS: dict[str, Callable[[], Callable[[str], Output]]] = {
    "trafilatura (defaults)": lambda: trafilatura_variant(),
    "trafilatura comments off": lambda: trafilatura_variant(include_comments=False),
    "trafilatura precision": lambda: trafilatura_variant(include_comments=False, favor_precision=True),
    "trafilatura recall": lambda: trafilatura_variant(include_comments=False, favor_recall=True),
    "trafilatura fast": lambda: trafilatura_variant(include_comments=False, fast=True),
    "trafilatura recall+images+formatting": lambda: trafilatura_variant(
        include_comments=False, favor_recall=True, include_images=True, include_formatting=True
    ),
    "readability-lxml": lambda: readability_run,
    "jusText": lambda: justext_run,
    "boilerpy3": lambda: boilerpy3_run,
    "goose3": lambda: goose3_run,
    "newspaper4k": lambda: newspaper_run,
    "outreach today": lambda: outreach_run,
}


# The corpus -----------------------------------------------------------------------------------------------------------


@dataclass
class Article:
    name: str
    html: str
    title: str
    body: list[str]
    bio: list[str]
    residue: list[str]
    headings: list[tuple[int, str]]
    in_lists: list[str] = field(default_factory=list)
    in_tables: list[str] = field(default_factory=list)


def load_corpus(only: set[str] | None) -> list[Article]:
    from bs4 import BeautifulSoup

    out = []
    for sidecar in sorted(CORPUS.glob("*.expect.toml")):
        name = sidecar.name.removesuffix(".expect.toml")
        page = next((CORPUS / f"{name}{s}" for s in (".html", ".htm") if (CORPUS / f"{name}{s}").is_file()), None)
        if page is None or (only and name not in only):
            continue
        want = tomllib.loads(sidecar.read_text(encoding="utf-8"))
        raw = page.read_text(encoding="utf-8")
        soup = BeautifulSoup(raw, "html.parser")
        lis = [norm(li.get_text(" ")) for li in soup.find_all("li")]
        cells = [norm(td.get_text(" ")) for td in soup.find_all(["td", "th"])]
        body = want["body"]
        # MsoListParagraph paragraphs are Word's list items
        lis += [
            norm(p.get_text(" ")) for p in soup.find_all("p") if "MsoListParagraph" in " ".join(p.get("class") or [])
        ]
        heads = [(len(h) - len(h.lstrip("#")), h.lstrip("#").strip()) for h in want.get("headings", [])]
        out.append(
            Article(
                name,
                raw,
                want["title"],
                body,
                want.get("bio", []),
                want["residue"],
                heads,
                [u for u in body if any(holds(li, norm(u)) for li in lis)],
                [u for u in body if any(holds(c, norm(u)) for c in cells)],
            )
        )
    return out


# Scoring --------------------------------------------------------------------------------------------------------------


@dataclass
class Score:
    body: tuple[int, int] = (0, 0)
    bio: tuple[int, int] = (0, 0)
    residue: int = 0
    residue_pages: int = 0
    title: int = 0
    title_less_site: int = 0
    heads: tuple[int, int] | None = (0, 0)
    levels: tuple[int, int] | None = (0, 0)
    lists: tuple[int, int] | None = (0, 0)
    tables: tuple[int, int] | None = (0, 0)
    times: list[float] = field(default_factory=list)
    failures: int = 0
    leaked: list[str] = field(default_factory=list)


def add(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    return None if a is None or b is None else (a[0] + b[0], a[1] + b[1])


def score_page(art: Article, out: Output) -> Score:
    text = out.text or ""
    normed = norm(text)
    s = Score()
    s.body = (sum(holds(normed, norm(u)) for u in art.body), len(art.body))
    s.bio = (sum(holds(normed, norm(u)) for u in art.bio), len(art.bio))
    leaked = [r for r in art.residue if residue_in(text, normed, r)]
    s.residue, s.residue_pages, s.leaked = len(leaked), int(bool(leaked)), leaked
    t = out.title or ""
    s.title = int(norm(t) == norm(art.title))
    s.title_less_site = int(norm(SITE_SUFFIX.sub("", t)) == norm(art.title) or s.title)
    if out.blocks is None:
        s.heads = s.levels = s.lists = s.tables = None
        return s
    heads = [(lvl, norm(txt)) for k, lvl, txt in out.blocks if k == "h"]
    found: list[tuple[int, int]] = []  # (expected level, output level)
    pos = 0
    for lvl, txt in art.headings:
        for j in range(pos, len(heads)):
            if heads[j][1] == norm(txt):
                found.append((lvl, heads[j][0]))
                pos = j + 1
                break
    s.heads = (len(found), len(art.headings))
    pairs = list(itertools.pairwise(found))
    sign = lambda x: (x > 0) - (x < 0)  # noqa: E731
    s.levels = (sum(sign(b[0] - a[0]) == sign(b[1] - a[1]) for a, b in pairs), len(pairs))
    items = [norm(t) for k, _, t in out.blocks if k == "li"]
    cells = [norm(t) for k, _, t in out.blocks if k == "cell"]
    s.lists = (sum(any(holds(i, norm(u)) for i in items) for u in art.in_lists), len(art.in_lists))
    s.tables = (sum(any(holds(c, norm(u)) for c in cells) for u in art.in_tables), len(art.in_tables))
    return s


def measure(
    name: str, run: Callable[[str], Output], corpus: list[Article], repeat: int, per_article: list[str]
) -> Score:
    total = Score()
    for art in corpus:
        best, out = float("inf"), None
        for _ in range(repeat):
            t0 = time.process_time()
            try:
                out = run(art.html)
            except Exception as err:  # an extractor that crashes on a page scores nothing for it
                out = Output("", None, [])
                total.failures += 1
                print(f"  {name} on {art.name}: {type(err).__name__}: {str(err)[:100]}", file=sys.stderr)
                break
            best = min(best, time.process_time() - t0)
        s = score_page(art, out)
        total.body = add(total.body, s.body)
        total.bio = add(total.bio, s.bio)
        total.residue += s.residue
        total.residue_pages += s.residue_pages
        total.title += s.title
        total.title_less_site += s.title_less_site
        total.heads, total.levels = add(total.heads, s.heads), add(total.levels, s.levels)
        total.lists, total.tables = add(total.lists, s.lists), add(total.tables, s.tables)
        total.times.append(best)
        per_article.append(
            f"| {name} | {art.name} | {pct(s.body)} | {s.residue} | {pct(s.heads)} | {pct(s.lists)} "
            f"| {pct(s.tables)} | {'yes' if s.title_less_site else 'no'} | "
            f"{'; '.join(x[:40] for x in s.leaked[:4])} |"
        )
    return total


def pct(pair: tuple[int, int] | None) -> str:
    if pair is None:
        return "n/a"
    n, d = pair
    return "-" if d == 0 else f"{100 * n / d:.0f}%"


def frac(pair: tuple[int, int] | None) -> str:
    if pair is None:
        return "n/a"
    return f"{pct(pair)} ({pair[0]}/{pair[1]})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per page; the best time counts (default 3)")
    ap.add_argument("--per-article", action="store_true", help="also print one row per extractor and article")
    ap.add_argument("--only", default="", help="comma-separated article names")
    ap.add_argument("--markdown", help="also write the tables to this file")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    corpus = load_corpus(set(filter(None, args.only.split(","))) or None)
    pages = len(corpus)
    units = sum(len(a.body) for a in corpus)
    head = [
        f"{pages} HTML pages, {units} expected body sentences, {sum(len(a.residue) for a in corpus)} residue "
        f"strings, {sum(len(a.headings) for a in corpus)} headings, {sum(len(a.in_lists) for a in corpus)} "
        f"list sentences, {sum(len(a.in_tables) for a in corpus)} table sentences",
        "",
        "| extractor | body kept | residue leaked (pages) | bio kept | title exact / less site | headings found "
        "| levels kept | lists kept | tables kept | CPU ms/page (median) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows, per_article = [], []
    for name, factory in EXTRACTORS.items():
        try:
            run = factory()
        except ImportError as err:
            rows.append(f"| {name} | not installed ({err.name}) |||||||||")
            continue
        s = measure(name, run, corpus, args.repeat, per_article)
        med = statistics.median(s.times) * 1000 if s.times else 0
        rows.append(
            f"| {name} | {frac(s.body)} | {s.residue} ({s.residue_pages}/{pages}) | {frac(s.bio)} | "
            f"{s.title}/{s.title_less_site} of {pages} | {frac(s.heads)} | {frac(s.levels)} | {frac(s.lists)} | "
            f"{frac(s.tables)} | {med:.1f} |" + (f" {s.failures} crashed" if s.failures else "")
        )
        print(rows[-1], flush=True)
    report = head + rows
    if args.per_article:
        report += [
            "",
            "| extractor | article | body | residue | headings | lists | tables | title | first leaks |",
            "|---|---|---|---|---|---|---|---|---|",
            *per_article,
        ]
    print("\n".join(report))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(report) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
