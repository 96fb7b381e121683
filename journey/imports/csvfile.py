"""The one CSV reader of `journey import deals` and `journey import signals`, and the rejected-rows writer.

A file is read as Excel and the CRMs write it: UTF-8 (with or without a byte-order mark), else Windows-1252
(Excel's "CSV" on Western Windows; Latin-1 text reads the same), or UTF-16 with its byte-order mark (Excel's
"Unicode text"); cells separated by `,`, `;` (Excel's default where the decimal separator is a comma) or a
tab, as the header line shows. A file that cannot be read at all raises UnreadableFile naming the file, the
line and what is wrong, before any row is imported (:meth:`CsvFile.count` reads it all).
"""
from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

DELIMITERS = ",;\t"
MAX_FIELD = 1024 * 1024  # a longer cell is almost always a quote that is never closed
CHUNK = 1024 * 1024
_NUMBER = re.compile(r"[-+]?\d+([.,]\d+)?")


class UnreadableFile(ValueError):
    """The file is not a CSV journey can read; the message names the file, the line and the problem."""


@dataclass(frozen=True)
class CsvFile:
    path: Path
    encoding: str
    delimiter: str
    headers: list[str]

    @classmethod
    def open(cls, path: Path) -> CsvFile:
        """Detect the encoding and the delimiter, and read the header line; UnreadableFile if it cannot."""
        encoding = _encoding(path)
        with path.open(encoding=encoding, newline="") as handle:
            first = handle.readline()
        if not first.strip():
            raise UnreadableFile(f"{path}: line 1: no header line (the file is empty or starts with a blank line)")
        delimiter = _delimiter(first)
        records = cls(path, encoding, delimiter, [])._records()
        try:
            _, headers = next(records)  # the first line is not blank: there is a first record
        finally:
            records.close()
        return cls(path, encoding, delimiter, headers)

    def rows(self) -> Iterator[tuple[int, dict[str | None, Any]]]:
        """(line where the row starts, {header: cell}) for each row after the header, as csv.DictReader
        builds it: cells beyond the headers are listed under None, missing ones are None."""
        records = self._records()
        next(records, None)
        for line, cells in records:
            row: dict[str | None, Any] = dict(zip(self.headers, cells, strict=False))
            if len(cells) > len(self.headers):
                row[None] = cells[len(self.headers):]
            for header in self.headers[len(cells):]:
                row.setdefault(header, None)
            yield line, row

    def count(self) -> int:
        """How many rows follow the header; reading them all, so a malformed file is refused here."""
        return sum(1 for _ in self.rows())

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        """(line where it starts, cells) of each record, the header's included; blank lines skipped."""
        csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD))  # process-wide; never lowered
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
            end = 0
            while True:
                start = end + 1
                try:
                    cells = next(reader, None)
                except csv.Error as exc:
                    raise UnreadableFile(f"{self.path}: line {start}: {_explain(exc, reader.line_num)}") from exc
                if cells is None:
                    return
                end = reader.line_num
                if cells:
                    yield start, cells


def _encoding(path: Path) -> str:
    """utf-8, utf-8-sig (with a BOM), utf-16 (with its BOM) or cp1252; UnreadableFile naming the first bad line."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        if head.startswith(b"PK\x03\x04"):
            raise UnreadableFile(f"{path}: line 1: this is a spreadsheet (.xlsx), not a CSV file: "
                                 "save it as CSV and import that")
        handle.seek(0)
        if _decodes(path, handle, "utf-8"):
            return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
        handle.seek(0)
        _decodes(path, handle, "cp1252", must=True)
        return "cp1252"


def _decodes(path: Path, handle: BinaryIO, encoding: str, *, must: bool = False) -> bool:
    """Whether the whole file decodes; a NUL byte, or (when it must) a byte that does not, is an error."""
    decoder, lines = codecs.getincrementaldecoder(encoding)(), 1
    while True:
        chunk = handle.read(CHUNK)
        if b"\x00" in chunk:
            at = lines + chunk.count(b"\n", 0, chunk.index(b"\x00"))
            raise UnreadableFile(f"{path}: line {at}: a NUL byte: this is not a text file; save it as CSV")
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            if not must:
                return False
            at = lines + chunk.count(b"\n", 0, exc.start)  # single-byte encoding: exc.start is in this chunk
            raise UnreadableFile(f"{path}: line {at}: byte 0x{chunk[exc.start]:02X} is neither UTF-8 nor "
                                 "Windows-1252 text: save the file as CSV UTF-8") from exc
        if not chunk:
            return True
        lines += chunk.count(b"\n")


def _delimiter(header_line: str) -> str:
    """The candidate that splits the header line into the most columns (quotes respected); a comma on a tie.

    Not csv.Sniffer: on a single line it picks a comma whenever there is one (`id;amount (EUR, net)`)."""
    def columns(delimiter: str) -> int:
        return len(next(csv.reader([header_line.rstrip("\r\n")], delimiter=delimiter), []))

    return max(DELIMITERS, key=columns)  # max keeps the first of equals: DELIMITERS starts with ","


def _explain(exc: csv.Error, last_line: int) -> str:
    message = str(exc)
    if message.startswith("field larger than field limit"):
        return f"a cell is longer than {MAX_FIELD // 1024} KiB (a quote that is never closed?)"
    if message == "unexpected end of data":
        return f"a quoted cell opened on this line is never closed (the file ends at line {last_line})"
    return f"malformed CSV ({message})"


def spreadsheet_safe(cell: object) -> str:
    """A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or carriage return first)
    gets a leading `'` so it shows as text; plain numbers such as `-5` are left as they are."""
    value = "" if cell is None else str(cell)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_rows(path: Path, rows: Iterable[Iterable[object]], *, like: CsvFile) -> None:
    """Write rows (formula-safe) with the delimiter of the file they came from; UTF-8, with a byte-order mark
    when that file had one or was not UTF-8 (it came from Excel, which needs the mark to read UTF-8)."""
    with path.open("w", encoding="utf-8" if like.encoding == "utf-8" else "utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=like.delimiter)
        writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
