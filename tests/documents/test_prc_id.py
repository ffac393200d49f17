"""Resident identity card: number rules and the age-dependent validity period."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.documents.builders import TODAY, card, resident_number, with_check_digit

from realname.documents.prc_id import is_known_region, validate_resident_id, validity_years
from realname.errors import DocumentError

# Codes that are valid for any birth year in stdnum's table (and 360426, created 1983: see the historical test).
REGIONS = ["110101", "110102", "310104", "320102", "420106", "650102", "440300", "360426"]


def refused(c: object, today: date = TODAY) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        validate_resident_id(c, today)  # type: ignore[arg-type]
    return info.value


def test_valid_card_passes() -> None:
    validate_resident_id(card(), TODAY)


def test_lower_case_x_is_normalised() -> None:
    seq = next(s for s in (f"{i:03d}" for i in range(1, 999, 2)) if resident_number(seq=s).endswith("X"))
    number = resident_number(seq=seq)
    c = card(number=number.lower())
    assert c.number == number
    validate_resident_id(c, TODAY)


@pytest.mark.parametrize("number", ["11010119900307123", "1101011990030712345", "11010119900307A233"])
def test_format(number: str) -> None:
    err = refused(card(number=number))
    assert (err.field, err.rule) == ("number", "format")


def test_checksum() -> None:
    good = resident_number()
    bad = good[:-1] + ("1" if good[-1] == "0" else "0")
    err = refused(card(number=bad))
    assert (err.field, err.rule) == ("number", "checksum")
    assert err.message == "Document number check digit is wrong" and err.message_zh == "证件号码校验位错误"


@pytest.mark.parametrize("region", ["999999", "110199", "810000", "830000"])
def test_unknown_region(region: str) -> None:
    err = refused(card(number=resident_number(region)))
    assert (err.field, err.rule) == ("number", "unknown_region")


def test_historical_region_codes_are_known() -> None:
    """崇文区 (110103) was merged away in 2010; 德安县's 360426 dates from 1983 but serves people born earlier."""
    assert is_known_region("110103")
    validate_resident_id(card(number=resident_number("360426", date(1960, 2, 1)), birth_date=date(1960, 2, 1),
                              issue_date=date(2010, 1, 1), expiry_date=None), TODAY)


def test_birth_date_mismatch() -> None:
    err = refused(card(birth_date=date(1990, 3, 8)))
    assert (err.field, err.rule) == ("birth_date", "birth_date_mismatch")


def test_sex_mismatch() -> None:
    err = refused(card(sex="F"))
    assert (err.field, err.rule) == ("sex", "sex_mismatch")


def test_even_sequence_is_female() -> None:
    validate_resident_id(card(number=resident_number(seq="124"), sex="F"), TODAY)


def test_issue_date_required() -> None:
    err = refused(card(issue_date=None))
    assert (err.field, err.rule) == ("issue_date", "required")


def test_issue_before_birth() -> None:
    err = refused(card(issue_date=date(1989, 1, 1), expiry_date=date(1994, 1, 1)))
    assert (err.field, err.rule) == ("issue_date", "issue_before_birth")


def test_issue_in_future() -> None:
    err = refused(card(issue_date=date(2024, 6, 2), expiry_date=date(2044, 6, 2)))
    assert (err.field, err.rule) == ("issue_date", "future_date")


@pytest.mark.parametrize(("age", "years"), [(0, 5), (15, 5), (16, 10), (25, 10), (26, 20), (45, 20), (46, None),
                                            (80, None)])
def test_validity_years(age: int, years: int | None) -> None:
    assert validity_years(age) == years


@pytest.mark.parametrize(("issue", "expiry"), [
    (date(2005, 3, 6), date(2010, 3, 6)),    # the day before the 16th birthday: 5 years
    (date(2006, 3, 7), date(2016, 3, 7)),    # on the 16th birthday: 10 years
    (date(2016, 3, 7), date(2036, 3, 7)),    # 26th birthday: 20 years
])
def test_validity_by_age_at_issue(issue: date, expiry: date) -> None:
    validate_resident_id(card(issue_date=issue, expiry_date=expiry), expiry)


def test_long_term_from_46() -> None:
    validate_resident_id(card(issue_date=date(2036, 3, 7), expiry_date=None), date(2040, 1, 1))


def test_long_term_under_46_is_refused() -> None:
    err = refused(card(expiry_date=None))
    assert (err.field, err.rule) == ("expiry_date", "validity_period")


def test_expiry_given_from_46_is_refused() -> None:
    err = refused(card(issue_date=date(2036, 3, 7), expiry_date=date(2056, 3, 7)), date(2040, 1, 1))
    assert (err.field, err.rule) == ("expiry_date", "validity_period")


@pytest.mark.parametrize("expiry", [date(2025, 5, 19), date(2025, 5, 21), date(2035, 5, 20)])
def test_wrong_validity_period(expiry: date) -> None:
    err = refused(card(expiry_date=expiry))
    assert (err.field, err.rule) == ("expiry_date", "validity_period")


@pytest.mark.parametrize(("expiry", "ok"), [(date(2026, 2, 28), True), (date(2026, 3, 1), True),
                                            (date(2026, 3, 2), False)])
def test_issued_on_feb_29(expiry: date, ok: bool) -> None:
    c = card(issue_date=date(2016, 2, 29), expiry_date=expiry)
    if ok:
        validate_resident_id(c, TODAY)
    else:
        assert refused(c).rule == "validity_period"


def test_expired() -> None:
    err = refused(card(), date(2025, 5, 21))
    assert (err.field, err.rule) == ("expiry_date", "expired")


def test_valid_on_expiry_day() -> None:
    validate_resident_id(card(), date(2025, 5, 20))


_BIRTHS = st.dates(min_value=date(1930, 1, 1), max_value=date(1975, 12, 31))  # 46+ on the issue date below


def _long_term_card(number: str, birth: date) -> object:
    return card(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F",
                issue_date=date(2022, 1, 1), expiry_date=None)


@given(st.sampled_from(REGIONS), _BIRTHS, st.text("0123456789", min_size=3, max_size=3))
def test_any_consistent_number_validates(region: str, birth: date, seq: str) -> None:
    number = with_check_digit(region + birth.strftime("%Y%m%d") + seq)
    validate_resident_id(_long_term_card(number, birth), TODAY)  # type: ignore[arg-type]


@given(st.sampled_from(REGIONS), _BIRTHS, st.text("0123456789", min_size=3, max_size=3), st.data())
def test_any_single_character_change_is_caught(region: str, birth: date, seq: str, data: st.DataObject) -> None:
    number = with_check_digit(region + birth.strftime("%Y%m%d") + seq)
    pos = data.draw(st.integers(0, 17))
    choices = [c for c in ("0123456789X" if pos == 17 else "0123456789") if c != number[pos]]
    changed = number[:pos] + data.draw(st.sampled_from(choices)) + number[pos + 1:]
    err = refused(_long_term_card(changed, birth))
    assert (err.field, err.rule) == ("number", "checksum")
