"""`journey import deals` and `journey import signals` read the CSV files people have: Windows-1252 from Excel,
`;` or tab separated, with a BOM, huge or broken cells; a file that cannot be read is named with its line."""
from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from journey import db
from journey.cli import app
from journey.models import Account, Signal

pytestmark = pytest.mark.usefixtures("db_url")

HEADER = ["deal_id", "deal_name", "amount", "currency", "signed_at", "account_id", "account_name", "timezone"]
ROW = ["D-1", "Société Générale - Plateforme", "48000", "EUR", "2026-11-20T13:55:00Z", "C-1", "Société Générale",
       "Europe/Paris"]


def _deals(path, rows, *, delimiter=",", encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows([HEADER, *rows])
    return CliRunner().invoke(app, ["import", "deals", str(path)])


def _account_names() -> set[str]:
    with db.transaction(writer=False) as session:
        return set(session.scalars(select(Account.name)))


@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("cp1252", ","), ("cp1252", ";"), ("utf-8", ";"), ("utf-8-sig", "\t"), ("utf-8-sig", ","), ("utf-16", ";"),
])
def test_deals_from_excel_files_import_with_their_accents(tmp_path, encoding, delimiter) -> None:
    result = _deals(tmp_path / "deals.csv", [ROW], delimiter=delimiter, encoding=encoding)
    assert result.exit_code == 0, result.output
    assert "1 created, 0 already known, 0 rejected" in result.output
    assert _account_names() == {"Société Générale"}


def _signals(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return CliRunner().invoke(app, ["import", "signals", str(path)])


def _account() -> None:
    with db.transaction() as session:
        session.add(Account(crm_source="import", crm_external_id="Crème", name="Crème", timezone="UTC"))


@pytest.mark.parametrize(("encoding", "delimiter"), [("cp1252", ";"), ("utf-8-sig", "\t"), ("utf-8", ",")])
def test_signals_from_excel_files_import_negative_values_too(tmp_path, encoding, delimiter) -> None:
    _account()
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    lines = ["id,account,metric,value,at", f"s1,crm:import:Crème,nps,-5,{at}", f"s2,crm:import:Crème,seats,12,{at}"]
    result = _signals(tmp_path / "signals.csv", "\r\n".join(x.replace(",", delimiter) for x in lines), encoding)
    assert result.exit_code == 0, result.output
    assert "2 signals stored, 0 already known, 0 rejected" in result.output
    with db.transaction(writer=False) as session:
        assert sorted(session.scalars(select(Signal.value))) == [-5, 12]


@pytest.mark.parametrize("command", ["deals", "signals"])
@pytest.mark.parametrize(("case", "content", "message"), [
    ("cell over 1 MiB", b"deal_id,account_id\nD-1,C-1\nD-2,\"" + b"x" * (1100 * 1024) + b"\"\n",
     "line 3: a cell is longer than 1024 KiB"),
    ("quote never closed", b"deal_id,account_id\nD-1,C-1\nD-2,\"C-2\nD-3,C-3\n",
     "line 3: a quoted cell opened on this line is never closed"),
    ("byte neither UTF-8 nor Windows-1252", b"deal_id,account_id\nD-1,C-1\nD-2,C\x81\n",
     "line 3: byte 0x81 is neither UTF-8 nor Windows-1252"),
    ("spreadsheet", b"PK\x03\x04\x14\x00\x06\x00", "line 1: this is a spreadsheet (.xlsx), not a CSV file"),
    ("binary", b"deal_id,account_id\nD-1\x00,C-1\n", "line 2: a NUL byte"),
    ("empty", b"", "line 1: no header line"),
])
def test_a_file_that_cannot_be_read_is_named_with_its_line(tmp_path, command, case, content, message) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    result = CliRunner().invoke(app, ["import", command, str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    flat = " ".join(result.output.split())
    assert "export.csv: " + message in flat, result.output
    assert _account_names() == set()


def test_a_cell_over_128_kib_is_read(tmp_path) -> None:
    """csv's default limit is 128 KiB: a longer cell (here a deal name, cut to its 500 characters) is read."""
    long_row = ["D-2", "x" * (200 * 1024), *ROW[2:5], "C-2", "Globex", "UTC"]
    result = _deals(tmp_path / "deals.csv", [ROW, long_row])
    assert result.exit_code == 0, result.output
    assert "2 created, 0 already known, 0 rejected" in result.output


def _rejected(path, delimiter=","):
    with open(path.with_name(path.stem + ".rejected.csv"), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def test_rejected_cells_cannot_run_as_formulas_and_numbers_stay_numbers(tmp_path) -> None:
    path = tmp_path / "deals.csv"
    hostile = ["D-2", "=HYPERLINK(\"http://evil.example\",\"x\")", "-10", "EUR", "2026-11-20T13:55:00Z", "C-2",
               "@SUM(1+1)", "+33 1 23"]
    result = _deals(path, [ROW, hostile, ["D-3", "-cmd|' /C calc'!A0", "5", "EUR", "", "C-3", "Initech",
                                          "Mars/Olympus"]])
    assert "1 created, 0 already known, 2 rejected" in result.output, result.output
    rows = {r["deal_id"]: r for r in _rejected(path)}
    assert rows["D-2"]["deal_name"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert (rows["D-2"]["account_name"], rows["D-2"]["timezone"]) == ("'@SUM(1+1)", "'+33 1 23")
    assert rows["D-2"]["amount"] == "-10"
    assert rows["D-3"]["deal_name"] == "'-cmd|' /C calc'!A0"


def test_rejected_rows_keep_the_file_delimiter_and_their_first_physical_line(tmp_path) -> None:
    path = tmp_path / "deals.csv"
    note = ["D-2", "Acme\nsecond line\nthird line", *ROW[2:5], "C-2", "Acme", "UTC"]
    bad = ["D-3", "Initech", "5", "EUR", "2026-11-20T13:55:00Z", "C-3", "Initech", "Mars/Olympus"]
    result = _deals(path, [ROW, note, bad], delimiter=";", encoding="cp1252")
    assert "2 created, 0 already known, 1 rejected" in result.output, result.output
    (row,) = _rejected(path, delimiter=";")
    assert (row["line"], row["deal_id"], row["account_name"]) == ("6", "D-3", "Initech")
    assert "Mars/Olympus" in row["reason"]


def test_signal_problems_name_the_physical_line(tmp_path) -> None:
    _account()
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    text = f"id;account;metric;value;at\n\"s\n1\";crm:import:Crème;nps;10;{at}\n\ns2;crm:import:Crème;nps;lots;{at}\n"
    result = _signals(tmp_path / "signals.csv", text, "cp1252")
    assert "line 5: value" in result.output, result.output
    assert "1 signals stored, 0 already known, 1 rejected" in result.output
