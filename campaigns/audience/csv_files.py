"""Reading CSV files as people save them from spreadsheets and mailing tools: the encoding and delimiter found from
the bytes, each row given with the line it starts on, and a quote left open reported on its own line instead of
swallowing the rows after it. Every subscriber import reads through here (the admin's upload and the CLI's file).

The standard library's csv does the parsing; what this adds is what it leaves to the caller:
* encoding: a byte-order mark says UTF-8 or UTF-16; otherwise UTF-8 when every byte of the file decodes as UTF-8,
  else Windows-1252 (what Excel on Windows saves as "CSV"), else Latin-1, with a note that says so;
* delimiter: csv.Sniffer over the first lines, checked against the header line (a sniffer fooled by commas inside
  names would split a semicolon file wrongly), among `, ; TAB |`;
* an unclosed quote: csv reads on to the next quote, or to the end of the file, as one cell. A record that runs over
  several lines is accepted only when it still has the header's number of cells and none of its later lines looks
  like a row of its own; otherwise its first line is reported and reading starts again on the line after it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from campaigns.errors import ImportRowError

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
# A quoted cell may hold a line break (an address, a note), but not a dozen: past this many lines the quote is taken
# as never closed. It also bounds what is held in memory to re-read the lines after a broken quote.
MAX_RECORD_LINES = 10
SNIFF_BYTES = 64 * 1024
CHUNK = 1 << 20
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with a byte-order mark)",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 (Latin-1)",
    "latin-1": "Latin-1 (ISO 8859-1)",
}
NOT_UTF8_NOTE = (
    "This file is not UTF-8, so it was read as {label}, as Excel saves CSV files on Windows. Check that accented "
    "names look right below; if they do not, save the file as \u201cCSV UTF-8\u201d and upload it again."
)

Source = bytes | Path


@dataclass(frozen=True)
class CsvFormat:
    """How to read one file: the codec, the delimiter, and what a person should know about the guess."""

    encoding: str
    delimiter: str
    note: str | None = None

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)

    @property
    def delimiter_label(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


@dataclass(frozen=True)
class Record:
    """One row: the physical line it starts on (1 is the header) and its cells, as read."""

    line: int
    cells: list[str]


@dataclass(frozen=True)
class BadLine:
    """A line that could not be read as a row (an unclosed quote, an oversized cell); the rows after it still are."""

    line: int
    reason: str


UNCLOSED_QUOTE = (
    'a quote (") opened on this line is never closed, so this row was skipped; the lines after it were read as rows '
    "of their own"
)


def _binary(source: Source) -> BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


def detect_format(source: Source) -> CsvFormat:
    """The encoding (one pass over the bytes, a chunk at a time) and the delimiter (from the first lines)."""
    encoding, note = detect_encoding(source)
    with open_text(source, encoding) as text:
        sample = text.read(SNIFF_BYTES)
    return CsvFormat(encoding, sniff_delimiter(sample), note)


def detect_encoding(source: Source) -> tuple[str, str | None]:
    """(codec, note): a byte-order mark decides; else UTF-8 if the whole file decodes, else Windows-1252 or
    Latin-1 (which decodes anything), with a note saying the file was not UTF-8."""
    with _binary(source) as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", None
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", None
        handle.seek(0)
        utf8, cp1252 = codecs.getincrementaldecoder("utf-8")(), True
        utf8_ok = True
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if cp1252:
                try:
                    chunk.decode("cp1252")  # a single-byte code: chunks decode on their own
                except UnicodeDecodeError:
                    cp1252 = False
        if utf8_ok:
            try:
                utf8.decode(b"", final=True)  # a multi-byte character cut off at the very end
                return "utf-8", None
            except UnicodeDecodeError:
                pass
    encoding = "cp1252" if cp1252 else "latin-1"
    return encoding, NOT_UTF8_NOTE.format(label=ENCODING_LABELS[encoding])


def sniff_delimiter(sample: str) -> str:
    """The delimiter of the text's first lines; a comma when there is nothing to tell by (a single column)."""
    lines = sample.splitlines()[:50]
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and counts.get(sniffed):
        return sniffed
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_text(source: Source, encoding: str) -> TextIO:
    """The file as text, line endings kept as they are (csv needs them, and a quoted cell may hold one)."""
    return io.TextIOWrapper(_binary(source), encoding=encoding, newline="")


class _TooManyLines(Exception):
    """A record ran over MAX_RECORD_LINES lines: a quote was never closed."""


class _Lines:
    """The file's physical lines for csv.reader, numbered, with the lines of the current record kept so that they can
    be read again after a broken quote."""

    def __init__(self, text: TextIO) -> None:
        self._text = text
        self._again: deque[tuple[int, str]] = deque()
        self._number = 0
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.taken) >= MAX_RECORD_LINES:
            raise _TooManyLines
        if self._again:
            number, line = self._again.popleft()
        else:
            line = self._text.readline()
            if not line:
                raise StopIteration
            self._number += 1
            number = self._number
        self.taken.append((number, line))
        return line

    def read_again(self, lines: Iterable[tuple[int, str]]) -> None:
        self._again.extendleft(reversed(list(lines)))


def records(source: Source, fmt: CsvFormat) -> Iterator[Record | BadLine]:
    """Every row of the file in order, the header first, each with the line it starts on; a line that breaks the
    CSV comes as a BadLine, and reading goes on from the line after it. Blank lines are skipped."""
    with open_text(source, fmt.encoding) as text:
        lines = _Lines(text)
        reader = csv.reader(lines, delimiter=fmt.delimiter)
        width: int | None = None  # the header's number of cells
        while True:
            lines.taken = []
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (_TooManyLines, csv.Error) as err:
                taken = lines.taken
                reason = UNCLOSED_QUOTE if isinstance(err, _TooManyLines) else f"not readable as CSV ({err})"
                yield BadLine(taken[0][0], reason)
                lines.read_again(taken[1:])
                reader = csv.reader(lines, delimiter=fmt.delimiter)
                continue
            taken = lines.taken
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(taken) > 1 and _swallowed(cells, taken[1:], fmt.delimiter, width):
                yield BadLine(taken[0][0], UNCLOSED_QUOTE)
                lines.read_again(taken[1:])
                reader = csv.reader(lines, delimiter=fmt.delimiter)
                continue
            if width is None:
                width = len(cells)
            yield Record(taken[0][0], cells)


def _swallowed(cells: list[str], later: list[tuple[int, str]], delimiter: str, width: int | None) -> bool:
    """True when a record spanning several lines is a quote left open rather than a cell with a line break: the
    cell count is off, or a later line has as many delimiters as a row of its own."""
    if width is None or width == 1 or len(cells) != width:
        return True
    return any(line.count(delimiter) >= width - 1 for _, line in later)


def header_and_rows(
    source: Source, fmt: CsvFormat, where: str = "the file"
) -> tuple[list[str], Iterator[Record | BadLine]]:
    """The header's cells and an iterator over the rows after it; ImportRowError naming `where` (the file) when
    there is no readable header."""
    items = records(source, fmt)
    first = next(items, None)
    if first is None:
        raise ImportRowError(f"{where}: the file is empty; expected a header line naming the columns")
    if isinstance(first, BadLine):
        raise ImportRowError(f"{where}:{first.line}: the header line cannot be read ({first.reason.split(',')[0]})")
    return first.cells, items


def preview(source: Source, fmt: CsvFormat, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    """The header and the first few rows (unreadable lines left out), for a person to check the guess and map the
    columns."""
    header, items = header_and_rows(source, fmt)
    found: list[list[str]] = []
    for item in items:
        if isinstance(item, Record):
            found.append(item.cells)
            if len(found) >= rows:
                break
    return header, found
