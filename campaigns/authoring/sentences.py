"""Sentences of article text: where they end (not at "U.S." or "Dr."), how a lesson opens, and Title Case headings
said in sentence case with the article's own names kept."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from campaigns.authoring.article import Article, Paragraph, Section, count_words

_SENTENCE_END = re.compile(r"[.!?][\"\u201d\u2019)]?\s+")
# A period after these (or after initials such as "U.S.") does not end a sentence.
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "vs", "e.g", "i.e", "etc", "st", "jr", "sr", "no", "approx", "fig"}
LEAD_MIN_WORDS = 8  # "Yes." says nothing: the body's opening runs until it says something


def sentence_case(text: str, article: Article, *, first: bool = True) -> str:
    """A Title Case heading in sentence case, keeping the capitals the article itself keeps mid-sentence (names,
    brands) and of acronyms: "Baclofen Misuse" is "baclofen misuse"; "Agape Detox" and "AUD" stay."""
    proper = _proper_nouns(article)
    out = []
    for i, w in enumerate(text.split()):
        bare = w.strip(".,:;?!()\"'\u2019")
        keep = (i == 0 and first) or not bare or bare in proper or not bare[0].isupper() or bare.isupper()
        out.append(w if keep else w.lower())
    return " ".join(out)


def _proper_nouns(article: Article) -> set[str]:
    """Capitalised words the article writes mid-sentence (not after a full stop): the names it keeps capitalised."""
    words: set[str] = set()
    for block in (*article.intro, *(b for s in article.sections for b in s.blocks)):
        for t in block.texts:
            tokens = t.split()
            for before, word in pairwise(tokens):
                bare = word.strip(".,:;?!()\"'\u2019")
                if bare[:1].isupper() and not before.endswith((".", "!", "?", ":")):
                    words.add(bare)
    return words


def first_sentence(sections: Sequence[Section]) -> str | None:
    """The opening of the first paragraph: whole sentences, enough of them to say something."""
    for section in sections:
        for block in section.blocks:
            if isinstance(block, Paragraph):
                lead = ""
                for sentence in split_sentences(block.text):
                    lead = f"{lead} {sentence}".strip()
                    if count_words(lead) >= LEAD_MIN_WORDS:
                        break
                return lead
    return None


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, not fooled by abbreviations and initials ("U.S.", "Dr.", "e.g.")."""
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        before = (
            text[start : m.start() + 1].split()[-1].lower().rstrip(".") if text[start : m.start() + 1].split() else ""
        )
        if before in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)+[a-z]|[a-z]", before):
            continue
        parts.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts
