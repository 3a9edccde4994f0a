"""What a reader sees in the inbox before opening anything: subjects, preheaders and the words for how often emails
come, written from the article's own words.

Rules, for any article:
* a subject is at most 60 characters and names the topic of the whole email (every section of a merged lesson);
* a preheader is 40 to 90 characters, adds to the subject instead of repeating it or the email's first line, ends
  at a phrase boundary, and never depends on a delay (a staff edit of a delay would leave it stale);
* nothing is cut so that it says something else: a clause is dropped only where what is left still stands on its
  own ("…, especially with prolonged use" may go; "…, but recovery is possible" may not).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise

from campaigns.authoring.article import Article, Block, BulletList, Paragraph, Section
from campaigns.authoring.sentences import first_sentence, sentence_case, split_sentences

SUBJECT_MAX = 60
# What staff may store: past SUBJECT_MAX the editor warns (phones show about 40 characters, desktop inboxes about
# 60-70); past this it refuses (RFC 5322 lines stop at 998, and no inbox shows a subject this long).
SUBJECT_LIMIT = 150
PREHEADER_MIN, PREHEADER_MAX = 40, 90
# What staff may store (editing refuses longer); the planner itself stays within PREHEADER_MAX.
PREHEADER_LIMIT = 110

# Words a shortened subject must not end on, and where a trailing phrase may be cut off.
_CUT_BEFORE = {"at", "in", "for", "with", "from", "during", "after", "before", "on", "of", "and", "or", "to", "by"}
# Headings often open with words that say nothing about the topic; a subject can do without them.
_FILLER_LEAD = re.compile(
    r"^(?:understanding|an overview of|overview of|an introduction to|introduction to|a guide to|guide to|all about|"
    r"the basics of|what you need to know about|everything you need to know about)\s+",
    re.I,
)
# A preheader taken from the middle of an article must not lean on what came before it.
_CONNECTIVE = re.compile(
    r"^(?:however|but|also|in addition|additionally|moreover|furthermore|meanwhile|still|and|yes|no|so|instead|in fact)"
    r"[,.]?\s+",
    re.I,
)
_BACK_REFERENCE = {"this", "these", "that", "those", "it", "they", "such", "he", "she", "its", "their", "another"}
# A clause that starts with these only makes sense with the rest of its sentence.
_SUBORDINATE = {"while", "although", "though", "if", "when", "because", "since", "as", "unless", "whereas", "despite"}
# Never cut before these: what follows turns the meaning ("…, but recovery is possible").
_TURNING = {"but", "however", "unless", "except", "although", "though", "yet", "only", "not", "or", "nor"}
_STOPWORDS = {
    "the", "and", "for", "are", "you", "your", "can", "how", "what", "why", "does", "with", "its", "use", "from",
    "into", "that", "this", "who", "when", "should", "about", "is", "an", "a", "of", "to", "in", "on", "or", "be",
}  # fmt: skip


# --------------------------------------------------------------------------------------------------- subjects


def lesson_subject(headings: Sequence[str], key_terms: Iterable[str] = ()) -> str:
    """A lesson's subject naming every one of its sections, shortened by rules until it fits in 60 characters;
    where the sections cannot all be named, as many as fit, then "and more". `key_terms` (see `key_terms`) may be
    left out of a later topic once an earlier one names them ("Baclofen Withdrawal" after "… to Baclofen")."""
    headings = [" ".join(h.split()) for h in headings if h.strip()]
    if len(headings) == 1:
        return shorten_subject(headings[0])
    terms = {t.lower() for t in key_terms}
    choices = [_short_forms(h, headings[:i], terms) for i, h in enumerate(headings)]
    for count in range(len(choices), 0, -1):
        for compact in (False, True):  # "A, and B" reads best; "A, B" when that is what fits
            best: str | None = None
            for combo in _combinations(choices[:count]):
                joined = _join_topics(combo, compact=compact, more=count < len(choices))
                if len(joined) <= SUBJECT_MAX and (best is None or len(joined) > len(best)):
                    best = joined
            if best is not None:
                return best
    return shorten_subject(headings[0])


def _short_forms(heading: str, earlier: Sequence[str], terms: set[str]) -> list[str]:
    """Ways to say one heading, longest first: as written, without a filler lead ("Understanding …"), the part
    before a colon, without a key term an earlier topic already names ("Baclofen Withdrawal" is "Withdrawal"), and
    "A and B of C" as "A of C"."""
    forms = [heading]
    lead = _FILLER_LEAD.sub("", heading)
    if lead != heading and len(lead.split()) >= 2:
        forms.append(lead[0].upper() + lead[1:])
    for form in list(forms):
        head = re.split(r":|\s[\u2013\u2014-]\s", form)[0].strip()
        if head != form and len(head.split()) >= 2:
            forms.append(head)
    said = {w.lower() for h in earlier for w in re.findall(r"[\w'-]+", h)} & terms
    for form in list(forms):
        trimmed = _tidy_end(_without_modifiers(form, said))
        if trimmed != form and any(len(w) > 3 and w.lower() not in _STOPWORDS for w in trimmed.split()):
            forms.append(trimmed[0].upper() + trimmed[1:])
    for form in list(forms):
        pair = re.sub(r"^(\w+) and \w+ (of|for|in|to) ", r"\1 \2 ", form)
        if pair != form:
            forms.append(pair)
    ordered = list(dict.fromkeys(f for f in forms if f))
    return sorted(ordered, key=len, reverse=True)


def _without_modifiers(form: str, said: set[str]) -> str:
    """Drops an already-named term where it only qualifies the next word ("Baclofen Withdrawal", "of Baclofen
    Misuse"), never where the heading needs it ("Misuse Stimulants", "a Fentanyl Overdose")."""
    words = form.split()
    kept = []
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1].lower() if i else ""
        if w.lower() in said and nxt[:1].isupper() and before not in ("a", "an"):
            continue
        kept.append(w)
    return " ".join(kept)


def _tidy_end(text: str) -> str:
    """No dangling preposition or colon at the end ("Withdrawal:" is "Withdrawal")."""
    words = text.rstrip(" :,;").split()
    while words and words[-1].lower() in (*_CUT_BEFORE, "the", "a", "an"):
        words.pop()
    return " ".join(words).rstrip(" :,;")


def _combinations(choices: list[list[str]]) -> Iterable[tuple[str, ...]]:
    if not choices:
        yield ()
        return
    for first in choices[0]:
        for rest in _combinations(choices[1:]):
            yield (first, *rest)


def _join_topics(topics: Sequence[str], *, compact: bool = False, more: bool = False) -> str:
    """ "A, and B" ("A, B, and C"; "A, B, C" when compact); after a question, "A? And B"; "and more" when not all
    topics are named. A later topic reads on mid-line: "and the First Days", "going slowly"."""
    sentence_style = any(_is_sentence_case(t) for t in topics)
    parts = [topics[0], *(_mid_line(t, sentence_style) for t in topics[1:])] + (["more"] if more else [])
    out = parts[0]
    for i, topic in enumerate(parts[1:], 1):
        last = i == len(parts) - 1
        joiner = "and " if last and (more or not compact) else ""
        if out.endswith("?"):
            out += f" {joiner.capitalize()}{topic}"
        else:
            out += f", {joiner}{topic}"
    return out


def _mid_line(topic: str, sentence_style: bool) -> str:
    """A heading as it reads after a comma: a leading article in lower case, and in sentence-case headings the
    first word too ("Going slowly" is "going slowly"); Title Case headings and names keep their capitals."""
    words = topic.split()
    if words[0] in ("The", "A", "An") and len(words) > 1:
        return " ".join([words[0].lower(), *words[1:]])
    if sentence_style and words[0][1:].islower() and not topic.endswith("?"):
        return topic[0].lower() + topic[1:]
    return topic


def _is_sentence_case(heading: str) -> bool:
    """ "Going slowly", not "Signs of Misuse": two words or more, every word after the first in lower case."""
    rest = re.findall(r"[A-Za-z][\w'-]*", heading)[1:]
    return bool(rest) and all(w.islower() for w in rest)


def key_terms(article: Article) -> set[str]:
    """The series' own subject, which a subject naming two topics may say once: a word that qualifies the next one
    in the title ("Baclofen" in "Baclofen Misuse") and that at least half the section headings repeat."""
    title = re.split(r"[:\u2013\u2014]", article.title)[0].split()
    qualifiers = {w.lower() for w, nxt in pairwise(title) if len(w) > 3 and nxt[:1].isupper()}
    headings = [{w.lower() for w in re.findall(r"[\w'-]+", s.heading)} for s in article.sections]
    return {t for t in qualifiers if headings and sum(t in h for h in headings) * 2 >= len(headings)}


def welcome_subject(article: Article) -> str:
    """Names the subject matter plainly ("Welcome: what to know about baclofen misuse"), never as "your guide to"
    it, which reads as a guide to doing it."""
    title = " ".join(article.title.split())
    # The title's head: before a colon or a dash, or a leading question with its mark ("Is Tramadol Addictive?").
    head = re.split(r":|\s[\u2013\u2014-]\s|(?<=\?)\s", title)[0].strip()
    for topic in dict.fromkeys((head, title)):
        if topic.endswith("?"):
            candidates = [f"Welcome: {sentence_case(topic, article)}"]
        else:
            plain = sentence_case(topic, article, first=False)
            candidates = [f"Welcome: what to know about {plain}", f"Welcome: {plain}"]
        for candidate in candidates:
            if len(candidate) <= SUBJECT_MAX:
                return candidate
    # A long head: its trailing phrases dropped until it fits ("… With a Loved One Who Drinks or Uses Drugs").
    short = shorten_subject(head, SUBJECT_MAX - len("Welcome: "))
    return f"Welcome: {sentence_case(short, article, first=short.endswith('?'))}"


def shorten_subject(heading: str, limit: int = SUBJECT_MAX) -> str:
    """A subject from a heading: unchanged when it fits, else cut at a phrase boundary, else at a word."""
    s = " ".join(heading.split())
    if len(s) <= limit:
        return s
    head = re.split(r"[:\u2013\u2014]| - ", s)[0].strip()
    if 15 <= len(head) <= limit:
        return head
    words = s.split()
    for i in range(len(words) - 1, 2, -1):  # drop a trailing phrase ("... at Agape Detox")
        if words[i].lower() in _CUT_BEFORE:
            candidate = " ".join(words[:i]).rstrip(",;")
            if len(candidate) <= limit and words[i - 1].lower() not in _CUT_BEFORE:
                return candidate
    return fit(s, limit)


def fit(text: str, limit: int) -> str:
    """Text cut at a word boundary to at most `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    words, out = text.split(), ""
    for w in words:
        if len(out) + len(w) + (1 if out else 0) > limit - 1:
            break
        out = f"{out} {w}" if out else w
    while out.split() and out.split()[-1].lower().strip(",;:") in _CUT_BEFORE:
        out = out.rsplit(" ", 1)[0]
    return out.rstrip(",;:") + "…"


# ------------------------------------------------------------------------------------------------- preheaders


def lesson_preheader(sections: Sequence[Section], subject: str) -> str:
    """A line from inside the lesson that answers its subject: not the opening the reader sees first, whole or cut
    only where what is left stands alone; a list's first items when no sentence fits."""
    topic = _content_words(subject) | {w for s in sections for w in _content_words(s.heading)}
    opening = first_sentence(sections) or ""
    best: tuple[tuple[bool, bool, int], str] | None = None
    order = 0
    for section in sections:
        for block in section.blocks:
            for candidate in _candidates(block, opening):
                order += 1
                if not PREHEADER_MIN <= len(candidate) <= PREHEADER_MAX or _repeats(candidate, subject):
                    continue
                key = (not (_content_words(candidate) & topic), _leans_back(candidate), order)
                if best is None or key < best[0]:
                    best = (key, candidate)
    if best is not None:
        return best[1]
    return _fallback_preheader(sections, subject)


def _candidates(block: Block, opening: str) -> Iterable[str]:
    if isinstance(block, BulletList):
        yield from _list_preheader(block)
        return
    if not isinstance(block, Paragraph) or block.role != "text":
        return  # a table, a quote or a caption does not speak for the lesson in an inbox
    for sentence in split_sentences(block.text):
        if sentence in opening:
            continue  # the body's first line: in the preview it would only say it twice
        yield from _sentence_forms(sentence)


def _sentence_forms(sentence: str) -> Iterable[str]:
    """The sentence as a standalone line (without a leading "However,"), without asides in brackets, and cut at a
    comma where the rest is an add-on ("…, especially with prolonged use")."""
    base = _CONNECTIVE.sub("", sentence.strip())
    if not base or base.endswith(":"):
        return
    base = base[0].upper() + base[1:]
    variants = [base]
    no_aside = re.sub(r"\s*\([^()]*\)", "", base)
    if no_aside != base:
        variants.append(no_aside)
    for text in variants:
        first = text.split()[0].lower().strip(",")
        if first in _BACK_REFERENCE:
            continue
        if text.count("(") != text.count(")") or text.count("\u201c") != text.count("\u201d"):
            continue
        yield text
        yield from _clause_cuts(text, subordinate=first in _SUBORDINATE)


def _clause_cuts(text: str, *, subordinate: bool) -> Iterable[str]:
    """The sentence up to a comma (longest first), where what follows only adds: not before a turn ("but"), not
    inside brackets, not through a list ("planning, judgement and impulse control" keeps all three or none)."""
    cuts = []
    for m in re.finditer(r"[,;]\s+(\S+)", text):
        head = text[: m.start()]
        follows = m.group(1).lower()
        rest = text[m.start(1) :]
        segment = re.split(r"[,;]", rest)[0]
        if follows in _TURNING or head.count("(") != head.count(")") or ":" in head:
            continue
        if len(segment.split()) <= 3 or (
            segment == rest and re.search(r"\b(and|or)\b", rest) and len(rest.split()) <= 6
        ):
            continue  # the next item of a list, not an add-on
        if subordinate and "," not in head:
            continue  # "While X" alone is half a thought
        cuts.append(head.rstrip() + ".")
    yield from reversed(cuts)


def _list_preheader(block: BulletList) -> Iterable[str]:
    """The first items of a list ("Follow the prescribed dosage, avoid abrupt discontinuation, and more"), from
    labels ("Label: explanation") or short items."""
    labels = [item.split(":", 1)[0].strip() if ":" in item else item.strip() for item in block.items]
    if len(labels) < 2 or any(len(label.split()) > 7 for label in labels[:2]):
        return
    labels = [_lower_first(label) if i else label for i, label in enumerate(_plain(labels))]
    for k in range(len(labels), 1, -1):
        shown = labels[:k]
        rest = "" if k == len(labels) else ", and more"
        line = (", ".join(shown) + rest) if rest else (", ".join(shown[:-1]) + ", and " + shown[-1])
        yield line


def _plain(labels: list[str]) -> list[str]:
    """Title Case labels in sentence case ("Follow the Prescribed Dosage" is "Follow the prescribed dosage")."""
    return [
        label.split()[0] + "".join(f" {w.lower() if w.istitle() and len(w) > 1 else w}" for w in label.split()[1:])
        if label.split()
        else label
        for label in labels
    ]


def _lower_first(text: str) -> str:
    first = text.split()[0]
    return text if first.isupper() and len(first) > 1 else text[0].lower() + text[1:]


def _leans_back(candidate: str) -> bool:
    """Reads as a follow-on to something the inbox does not show ("There is also …", "Due to these concerns")."""
    return bool({w.lower().strip(",") for w in candidate.split()[:5]} & {"also", "these", "this", "those", "such"})


def _repeats(candidate: str, subject: str) -> bool:
    """Says mostly what the subject says."""
    mine, theirs = _content_words(candidate), _content_words(subject)
    return bool(mine) and len(mine & theirs) / len(mine) > 0.6


def _content_words(text: str) -> set[str]:
    """Lower-case word stems (first five letters) that carry meaning."""
    return {w[:5] for w in re.findall(r"[a-z][a-z'-]+", text.lower()) if len(w) > 2 and w not in _STOPWORDS}


def _fallback_preheader(sections: Sequence[Section], subject: str) -> str:
    """When no other line of the lesson fits: what else it covers; else its opening after all (said twice is better
    than nothing said); else a plain line that is true of every lesson."""
    others = [s.heading for s in sections[1:]]
    if others:
        line = fit("Also inside: " + "; ".join(others), PREHEADER_MAX)
        if len(line) >= PREHEADER_MIN:
            return line
    for form in _sentence_forms(first_sentence(sections) or ""):
        if PREHEADER_MIN <= len(form) <= PREHEADER_MAX and not _repeats(form, subject):
            return form
    return "A few minutes to read, and who to call if it raises questions."


def welcome_preheader(lessons: int, longest_minutes: int) -> str:
    """What the series is, in numbers that only change when the article does (never the delay, which staff edit)."""
    each = f"{reading_time(longest_minutes)} each"
    count = "One short lesson" if lessons == 1 else f"{number_word(lessons).capitalize()} short lessons"
    return f"{count}, {each}, and a way to reach a real person."


def reading_time(longest_minutes: int) -> str:
    """How long a lesson takes to read, in the words the welcome uses for all of them."""
    return "a minute or two" if longest_minutes <= 2 else f"up to {longest_minutes} minutes"


def cta_preheader(has_closing: bool) -> str:
    if has_closing:
        return "What help looks like, and how to reach a real person when you are ready."
    return "Questions about what you read? Here is how to reach a real person."


# ---------------------------------------------------------------------------------------------------- cadence


def cadence_words(delays: Iterable[int]) -> str | None:
    """How often the emails after the first come, in words right for any delays: "every day", "every other day",
    "every 3 days", "twice a week", "once a week", "every 3 to 5 days"."""
    found = sorted(set(delays))
    if not found:
        return None
    if found == [3, 4]:
        return "twice a week"
    if len(found) == 1:
        days = found[0]
        named = {1: "every day", 2: "every other day", 7: "once a week", 14: "every two weeks"}
        if days in named:
            return named[days]
        if days % 7 == 0:
            return f"every {number_word(days // 7)} weeks"
        return f"every {days} days"
    return f"every {found[0]} to {found[-1]} days"


_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number_word(n: int) -> str:
    """Numbers up to ten in words, as style guides want them in running text."""
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)
