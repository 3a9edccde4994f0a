"""The name an email greets a reader by ("Hi Maria,"), or none ("Hi there,") when it cannot be told safely.

A first name the subscriber gave us wins. Otherwise it is read off the full name: honorifics are skipped
("Dr. Jane Smith" is Jane), "Last, First" is turned round, and anything where a guess could be wrong or rude gets
the neutral greeting: names in scripts where the family name comes first or given names are not used alone (Chinese,
Japanese, Korean, Thai, Vietnamese, …), an address typed as a name, numbers, initials only, one-letter or very long
words. (A romanised name in family-name-first order, "Kim Min-jun", cannot be told from "Kim Smith": a first-name
field is the way to get those right.)
"""

from __future__ import annotations

import re

NEUTRAL = "there"  # "Hi there,"
MAX_GREETING = 30
_HONORIFICS = {
    "dr", "doctor", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "rev", "reverend", "fr", "father", "sr",
    "sister", "br", "brother", "sir", "dame", "lady", "lord", "hon", "capt", "captain", "col", "gen", "lt", "sgt",
    "herr", "frau", "mme", "mlle", "m", "sra", "srta", "dona", "don", "sig", "sig.ra", "pastor", "rabbi",
    "imam", "sheikh", "mister", "madam", "madame",
}  # fmt: skip
# Scripts whose names are not "given name first, used alone" the way an English greeting assumes: Han (CJK ideographs
# and their extensions), Hiragana, Katakana, Hangul, Thai, Lao, Khmer, Myanmar, Tibetan, Yi, and full-width forms. By
# code point range, not unicodedata.name(): this runs once per recipient in the send path.
_NEUTRAL_SCRIPT = re.compile(
    "[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u2e80-\u2fdf\u3040-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef"
    "\U00020000-\U0003134f]"
)
# Letters only Vietnamese uses (horned o and u, d with stroke, and the Latin Extended Additional tone marks).
_VIETNAMESE = re.compile("[\u01a0\u01a1\u01af\u01b0\u0110\u0111\u1ea0-\u1ef9]")
_WORD = re.compile(r"^[^\W\d_](?:[^\W\d_]|['\u2019.-](?=[^\W\d_]))*\.?$")


def greeting_name(name: str | None, first_name: str | None = None) -> str:
    """The name to greet by: the first name given, else one read off `name`, else "there"."""
    for candidate in (_given(first_name), _from_full_name(name)):
        if candidate:
            return candidate
    return NEUTRAL


def _given(first_name: str | None) -> str | None:
    """A first name as the subscriber gave it (in a first-name field), if it is a name at all."""
    text = " ".join((first_name or "").split())
    if not text or _odd(text):
        return None
    return text if len(text) <= MAX_GREETING else None


def _from_full_name(name: str | None) -> str | None:
    text = " ".join((name or "").split())
    if not text or _odd(text):
        return None
    if "," in text:  # "Smith, Jane" (and "Smith, Dr. Jane"); "Jane Smith, MD" keeps Jane
        last, _, rest = text.partition(",")
        rest_words = rest.split()
        text = rest.strip() if rest_words and not _is_suffix(rest_words[0]) else last.strip()
    words = [w.strip("\"'()\u201c\u201d") for w in text.split()]
    words = [w for w in words if w]
    while words and words[0].lower().rstrip(".") in _HONORIFICS and len(words) > 1:
        words.pop(0)
    if words and words[0].lower().rstrip(".") in _HONORIFICS:
        return None  # an honorific alone ("Dr.")
    for word in words:
        if _is_initial(word):
            continue  # "J. Robert Smith" goes by Robert
        return _as_written(word) if _WORD.match(word) and 1 < len(word) <= MAX_GREETING else None
    return None


def _odd(text: str) -> bool:
    """Not something to greet anyone by: an address, a link, or a script greeted differently. (Digits are caught
    word by word: a greeting is letters only.)"""
    if "@" in text or "://" in text or "www." in text.lower():
        return True
    if text.isascii():
        return False
    # Vietnamese puts the family name first too ("Nguyễn Văn An" is greeted as An, or formally): not ours to guess.
    return bool(_NEUTRAL_SCRIPT.search(text) or _VIETNAMESE.search(text))


def _is_initial(word: str) -> bool:
    return bool(re.fullmatch(r"[^\W\d_]\.?", word))


def _is_suffix(word: str) -> bool:
    return word.lower().rstrip(".") in {"jr", "sr", "ii", "iii", "iv", "md", "phd", "dds", "esq", "rn", "lcsw"}


def _as_written(word: str) -> str:
    """Shouted or all-lower-case names get a capital first letter ("MARIA" is Maria); others stay as written
    ("McKenzie", "d'Arcy")."""
    if word.isupper() or word.islower():
        return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
    return word
