"""The shared CSV reader of the imports: encodings, delimiters, line numbers, formula-safe rejected cells."""
from __future__ import annotations

import pytest

from journey.imports.csvfile import CsvFile, spreadsheet_safe


@pytest.mark.parametrize(("cell", "written"), [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("-5", "-5"), ("+5", "+5"), ("-1.5", "-1.5"), ("-1,5", "-1,5"), ("-", "'-"),
    ("Acme", "Acme"), ("", ""), (None, ""), (42, "42"), ("a=b", "a=b"),
])
def test_spreadsheet_safe(cell, written) -> None:
    assert spreadsheet_safe(cell) == written


@pytest.mark.parametrize(("header", "delimiter"), [
    ("id,account,metric", ","), ("id;account;metric", ";"), ("id\taccount\tmetric", "\t"),
    ('"Deal; name",Deal - ID,Amount', ","), ("Deal - ID;Deal - Title, Inc.;x", ";"), ("deal_id", ","),
    ("id;name;amount (EUR, net)", ";"), ("a\tb\tc,d", "\t"), ("Nom;Prénom;Société", ";"),
])
def test_the_delimiter_comes_from_the_header_line(tmp_path, header, delimiter) -> None:
    path = tmp_path / "f.csv"
    path.write_text(header + "\n")
    assert CsvFile.open(path).delimiter == delimiter


@pytest.mark.parametrize(("data", "encoding"), [
    ("a,é\n".encode(), "utf-8"), ("a,é\n".encode("utf-8-sig"), "utf-8-sig"), ("a,é€\n".encode("cp1252"), "cp1252"),
    ("a,é\n".encode("utf-16"), "utf-16"), (b"a,b\n", "utf-8"),
])
def test_the_encoding_is_detected(tmp_path, data, encoding) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    file = CsvFile.open(path)
    assert (file.encoding, file.headers) == (encoding, ["a", data.decode(encoding).strip()[2:]])


def test_rows_carry_their_first_line_and_extra_or_missing_cells(tmp_path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('a,b\n1,"two\nlines"\n\n3\n4,5,6\n')
    assert list(CsvFile.open(path).rows()) == [
        (2, {"a": "1", "b": "two\nlines"}), (5, {"a": "3", "b": None}), (6, {"a": "4", "b": "5", None: ["6"]})]
