"""ICAO 9303 TD3 parsing: fields, every check digit, and the century of two-digit years."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from tests.documents.builders import SPECIMEN_MRZ, SPECIMEN_TODAY, td3

from realname.documents.mrz import check_digit, parse_td3
from realname.errors import DocumentError

LINE1, LINE2 = SPECIMEN_MRZ.split("\n")
# Where each checked field of line 2 lives, and the rule its check digit breaks.
FIELDS = {"number": (0, 9), "birth_date": (13, 19), "expiry_date": (21, 27), "optional_data": (28, 42)}


def refused(text: str, today: date = SPECIMEN_TODAY) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        parse_td3(text, today)
    assert info.value.field == "mrz"
    return info.value


def replace(line: str, pos: int, ch: str) -> str:
    return line[:pos] + ch + line[pos + 1:]


def test_icao_specimen() -> None:
    mrz = parse_td3(SPECIMEN_MRZ, SPECIMEN_TODAY)
    assert (mrz.document_type, mrz.issuing_state, mrz.nationality) == ("P", "UTO", "UTO")
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.number == "L898902C3"
    assert mrz.birth_date == date(1974, 8, 12)
    assert mrz.sex == "F"
    assert mrz.expiry_date == date(2012, 4, 15)
    assert mrz.optional_data == "ZE184226B"


@pytest.mark.parametrize(("field", "digit"), [("L898902C3", "6"), ("740812", "2"), ("120415", "9"),
                                              ("ZE184226B<<<<<", "1"), ("<<<<<<<<<<<<<<", "0")])
def test_check_digit_values(field: str, digit: str) -> None:
    assert check_digit(field) == digit


@pytest.mark.parametrize(("pos", "rule"), [(9, "check_digit_number"), (19, "check_digit_birth_date"),
                                           (27, "check_digit_expiry_date"), (42, "check_digit_optional_data"),
                                           (43, "check_digit_composite")])
def test_each_broken_check_digit_is_named(pos: int, rule: str) -> None:
    wrong = "5" if LINE2[pos] != "5" else "6"
    assert refused(f"{LINE1}\n{replace(LINE2, pos, wrong)}").rule == rule


def test_composite_catches_a_consistent_change() -> None:
    """Number and its own check digit changed together: only the composite check digit sees it."""
    line2 = td3(number="E12345678").split("\n")[1]
    other = td3(number="E12345679").split("\n")[1]
    assert refused(f"{LINE1}\n{other[:10]}{line2[10:]}").rule == "check_digit_composite"


@pytest.mark.parametrize("check", ["<", "0"])
def test_empty_optional_data_check_digit_may_be_filler_or_zero(check: str) -> None:
    assert parse_td3(td3(optional_check=check), SPECIMEN_TODAY).optional_data == ""


def test_empty_optional_data_with_another_digit_is_refused() -> None:
    assert refused(td3(optional_check="3")).rule == "check_digit_optional_data"


def test_personal_number_with_filler_check_digit_is_refused() -> None:
    assert refused(td3(optional="123456", optional_check="<")).rule == "check_digit_optional_data"


@pytest.mark.parametrize("text", [
    LINE1,                                             # one line
    f"{LINE1}\n{LINE2}\n{LINE2}",                      # three lines
    f"{LINE1}\n{LINE2[:-1]}",                          # 43 characters
    f"{LINE1.lower()}\n{LINE2}",                       # lower case
    f"{LINE1}\n{replace(LINE2, 30, ' ')}",             # a space inside
    f"V{LINE1[1:]}\n{LINE2}",                          # a visa, not a passport
])
def test_format(text: str) -> None:
    assert refused(text).rule == "format"


def test_surrounding_whitespace_and_crlf_are_accepted() -> None:
    assert parse_td3(f"  {LINE1}\r\n{LINE2}\n", SPECIMEN_TODAY).number == "L898902C3"


def test_impossible_date_with_correct_check_digit() -> None:
    assert refused(td3(birth="901307")).rule == "format"


@pytest.mark.parametrize(("birth", "today", "year"), [("150101", date(2024, 6, 1), 2015),
                                                      ("240601", date(2024, 6, 1), 2024),
                                                      ("240602", date(2024, 6, 1), 1924),
                                                      ("250101", date(2024, 6, 1), 1925)])
def test_birth_century_is_never_in_the_future(birth: str, today: date, year: int) -> None:
    assert parse_td3(td3(birth=birth), today).birth_date.year == year


def test_expiry_is_this_century() -> None:
    assert parse_td3(td3(expiry="991231"), SPECIMEN_TODAY).expiry_date == date(2099, 12, 31)


def test_germany_and_unspecified_sex() -> None:
    mrz = parse_td3(td3(nationality="D<<", sex="X"), SPECIMEN_TODAY)
    assert (mrz.nationality, mrz.issuing_state, mrz.sex) == ("DEU", "DEU", "<")


_CHECKED = [(pos, field) for field, (a, b) in FIELDS.items() for pos in range(a, b) if LINE2[pos].isdigit()]


@given(st.sampled_from(_CHECKED), st.sampled_from("0123456789"))
def test_altering_any_digit_in_a_checked_field_is_caught(checked: tuple[int, str], digit: str) -> None:
    pos, field = checked
    assume(LINE2[pos] != digit)
    assert refused(f"{LINE1}\n{replace(LINE2, pos, digit)}").rule == f"check_digit_{field}"


@given(st.sampled_from([9, 19, 27, 42, 43]), st.sampled_from("0123456789"))
def test_altering_any_check_digit_is_caught(pos: int, digit: str) -> None:
    assume(LINE2[pos] != digit)
    assert refused(f"{LINE1}\n{replace(LINE2, pos, digit)}").rule.startswith("check_digit_")
