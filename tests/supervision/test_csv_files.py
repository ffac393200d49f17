"""Every CSV the service writes goes through one writer that keeps spreadsheets from running a cell as a formula
(CSV injection): any cell, read back, never starts with a formula trigger, and differs from what was written only
by a leading apostrophe. End to end: an outlet and an agent named like formulas come out neutralised in the report
CSV and the registrations export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.registry_support import noise_frames, portrait_bytes, prc_card, seeded

from realname.context import SYSTEM, Actor, Services
from realname.operators import admin
from realname.operators.auth import authenticate, login
from realname.registration import registrations, verifications
from realname.registry.migrate import upgrade
from realname.supervision import inspection
from realname.supervision.csv_files import csv_bytes, csv_text, safe_cell
from realname.supervision.period import Period
from realname.supervision.report_files import to_csv
from realname.supervision.reports import build_report

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
LINK = '=HYPERLINK("http://x","y")'
DDE = "=cmd|' /C calc'!A0"


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def is_plain_number(cell: str) -> bool:
    body = cell[1:] if cell[:1] in ("+", "-") else cell
    whole, _, frac = body.partition(".")
    return whole.isascii() and whole.isdigit() and (not frac or (frac.isascii() and frac.isdigit()))


def assert_harmless(cell: str) -> None:
    """What a spreadsheet would see: text that starts with no trigger, not even after leading spaces, unless it
    is a plain number."""
    if is_plain_number(cell):
        return
    assert cell[:1] not in TRIGGERS and cell.lstrip()[:1] not in TRIGGERS, repr(cell)


cells = st.one_of(st.text(), st.text(alphabet=st.sampled_from([*TRIGGERS, " ", "\u3000", "1", ".", "a", '"', ","])),
                  st.integers().map(str), st.floats(allow_nan=False).map(str), st.none())


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(cells, max_size=6), max_size=6))
def test_any_cell_read_back_is_harmless_and_keeps_its_text(rows: list[list[str | None]]) -> None:
    back = read_back(csv_text(rows))
    assert len(back) == len(rows)
    for written, got in zip(rows, back, strict=True):
        assert len(got) == len(written)
        for original, cell in zip(written, got, strict=True):
            text = "" if original is None else original
            assert cell in (text, "'" + text)
            assert_harmless(cell)


@given(cells)
def test_a_single_cell_is_neutralised_the_same_way(value: str | None) -> None:
    assert read_back(csv_text([[value]])) == [[safe_cell(value)]]


def test_examples() -> None:
    assert safe_cell(LINK) == "'" + LINK and safe_cell(DDE) == "'" + DDE
    assert safe_cell("＝1+1") == "'＝1+1" and safe_cell("  @SUM(A1)") == "'  @SUM(A1)"
    assert safe_cell("\tx") == "'\tx" and safe_cell("-2+3") == "'-2+3"
    # numbers stay numbers, and ordinary text is untouched
    assert [safe_cell(v) for v in (-3, "-3", "+8613800000000", "2.5", "-0.5", 7, None, "DEMO-001", "a=b")] == [
        "-3", "-3", "+8613800000000", "2.5", "-0.5", "7", "", "DEMO-001", "a=b"]
    assert csv_bytes([["营业厅", "=1"]]) == "\ufeff营业厅,'=1\r\n".encode()


# --- end to end: the real service's files ---------------------------------------------------------------------------

def who(svc: Services, username: str, password: str) -> Actor:
    return authenticate(svc, login(svc, username, password)[0])


def register(svc: Services, agent: Actor) -> None:
    opened = verifications.open_verification(svc, agent, prc_card(), portrait_bytes(), consent=True)
    verifications.start_capture(svc, agent, opened.verification.id, opened.challenge)
    verification = verifications.submit_capture(svc, agent, opened.verification.id, noise_frames())[0]
    registrations.register(svc, agent, verification.id)


def hostile_registry(tmp_path: Path) -> tuple[Services, Period]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    svc, demo = seeded(url)
    outlet = admin.create_outlet(svc, SYSTEM, "＝1+1", LINK, operator_id=demo.operator_id)
    password = "a-long-enough-password-42"
    admin.create_user(svc, SYSTEM, DDE, password, "agent", operator_id=demo.operator_id, outlet_id=outlet.id)
    register(svc, who(svc, DDE, password))
    today = svc.now().date()
    return svc, Period(today, today)


def cells_of(text: str) -> list[str]:
    return [cell for row in read_back(text) for cell in row]


def test_the_report_and_the_export_neutralise_hostile_names(tmp_path: Path) -> None:
    svc, today = hostile_registry(tmp_path)
    report = to_csv(build_report(svc, SYSTEM, today)).decode("utf-8-sig")
    _, chunks = inspection.registrations_csv(svc, SYSTEM, today.start, today.end)
    export = "".join(chunks)
    for text, expected in ((report, {"'" + LINK, "'" + DDE, "'＝1+1"}), (export, {"'" + DDE, "'＝1+1"})):
        found = cells_of(text)
        assert expected <= set(found), found
        for cell in found:
            assert_harmless(cell)
    assert "登记/Registrations,1" in report  # plain cells are written as they are

