"""Parsing and planning every corpus article: time per article, the series it gives, what was dropped and why.

    .venv/bin/python -m bench.articles [--repeat N] [--markdown FILE]

For each article in tests/fixtures/articles (and the seed in content/): CPU milliseconds to parse it (best of N,
process time so a busy machine matters less), of which trafilatura's part for a web page, and to plan the series;
the steps with the words of each (welcome first, call to action last), and the dropped blocks counted by rule.
Results of a run are in bench/results/articles.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from campaigns.authoring.parsing import SUFFIXES, parse_article
from campaigns.authoring.parsing.main_content import extracted_words
from campaigns.authoring.planning import plan_series
from campaigns.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "tests" / "fixtures" / "articles"
SEED = PROJECT_ROOT / "content" / "baclofen-misuse-article.txt"


def best_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    paths = [SEED, *sorted(p for p in CORPUS.iterdir() if p.suffix in SUFFIXES)]
    parse_article(paths[0])  # imports and caches warmed once, not counted
    header = (
        "| article | parse ms | of which trafilatura | plan ms | steps | words per step | dropped | dropped by rule |"
    )
    rows = [header, "|---" * 8 + "|"]
    parse_times = []
    for path in paths:
        parse_ms = best_ms(lambda p=path: parse_article(p), args.repeat)
        source = path.read_text(encoding="utf-8")
        extract = (
            f"{best_ms(lambda s=source: extracted_words(s), args.repeat):.1f}"
            if path.suffix in (".html", ".htm")
            else "-"
        )
        article = parse_article(path)
        plan_ms = best_ms(lambda a=article: plan_series(a), args.repeat)
        series = plan_series(article)
        parse_times.append(parse_ms)
        rules = Counter(b.rule for b in article.dropped)
        by_rule = ", ".join(f"{rule} {n}" for rule, n in rules.most_common())
        words = " ".join(str(s.words) for s in series.steps)
        rows.append(
            f"| {path.name} | {parse_ms:.1f} | {extract} | {plan_ms:.2f} | {len(series.steps)} | {words} | "
            f"{len(article.dropped)} | {by_rule} |"
        )
    rows.append("")
    rows.append(
        f"{len(paths)} articles: parse median {statistics.median(parse_times):.1f} ms, "
        f"max {max(parse_times):.1f} ms (CPU, best of {args.repeat})"
    )
    text = "\n".join(rows)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
