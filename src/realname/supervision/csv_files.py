"""The one CSV writer, ``SafeWriter``, for every CSV the service writes from registry data: the report's CSV and
the registrations export. (The liveness tools' clip manifests are not registry data and are read back by those
tools: they keep a plain ``csv.writer``.)

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)`` leaks
data, ``=cmd|...`` runs a program through DDE), and some also take a leading tab or carriage return, the same
characters after leading spaces, or their full-width forms (＝＋－＠) typed by a Chinese input method. Outlet codes
and names and usernames are typed by operators' staff, so every cell goes through ``safe_cell``: such a cell gets
a leading apostrophe (OWASP's advice), which spreadsheets show as text and which keeps the value readable. Plain
numbers (``-3``, ``+8613800000000``) are left as they are: a number is not a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import TextIO

BOM = "\ufeff"  # so a spreadsheet reads the Chinese headers as UTF-8
FORMULA_START = frozenset("=+-@＝＋－＠")
CONTROL_START = frozenset("\t\r\n")  # taken as formula starts by some spreadsheets, and never a cell's real start
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")

Cell = object  # any value: str() of it is written; None is an empty cell


def safe_cell(value: Cell) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet could take it for a formula."""
    text = "" if value is None else str(value)
    if text[:1] in CONTROL_START or (text.lstrip()[:1] in FORMULA_START and not _NUMBER.fullmatch(text)):
        return "'" + text
    return text


class SafeWriter:
    """``csv.writer`` (RFC 4180 line ends) whose every cell goes through ``safe_cell``."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Cell]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Cell]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(rows: Iterable[Iterable[Cell]]) -> str:
    """Rows as CSV text, through ``SafeWriter``."""
    buf = io.StringIO()
    SafeWriter(buf).writerows(rows)
    return buf.getvalue()


def csv_bytes(rows: Iterable[Iterable[Cell]]) -> bytes:
    """A whole CSV file: UTF-8 with a BOM."""
    return (BOM + csv_text(rows)).encode("utf-8")
