"""Shared rule checks: one place that raises each :class:`DocumentError`, so every document type words a
broken rule the same way for the clerk (English and Chinese)."""

from __future__ import annotations

import calendar
from datetime import date

from stdnum.cn import ric

from realname.errors import DocumentError


def years_after(start: date, years: int) -> tuple[date, ...]:
    """Dates that count as ``start`` + ``years``: Feb 29 may become Feb 28 or Mar 1 in a common year."""
    year = start.year + years
    if start.month == 2 and start.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28), date(year, 3, 1)
    return (start.replace(year=year),)


def age_on(birth: date, day: date) -> int:
    """Completed years of age on ``day``; the validity period depends on it."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def require_issue_date(issue_date: date | None) -> date:
    if issue_date is None:
        raise DocumentError("Issue date is missing", field="issue_date", rule="required",
                            message_zh="缺少签发日期")
    return issue_date


def check_issue_date(birth: date, issue: date, today: date) -> None:
    """A card is not issued before its holder is born, nor after today."""
    if issue < birth:
        raise DocumentError("Issue date is before the date of birth", field="issue_date",
                            rule="issue_before_birth", message_zh="签发日期早于出生日期")
    if issue > today:
        raise DocumentError("Issue date is in the future", field="issue_date", rule="future_date",
                            message_zh="签发日期晚于今天")


def check_validity(issue: date, expiry: date | None, years: int | None) -> None:
    """``expiry`` must be exactly ``issue`` + ``years``; ``years`` None means long-term (长期), expiry None."""
    if years is None:
        if expiry is not None:
            raise DocumentError("This holder's card should be long-term, but it has an expiry date",
                                field="expiry_date", rule="validity_period",
                                message_zh="该持证人的证件应为长期有效，但证件有截止日期")
        return
    if expiry is None:
        raise DocumentError(f"Long-term validity is not possible here; the card is valid for {years} years",
                            field="expiry_date", rule="validity_period",
                            message_zh=f"此证件不能为长期有效，有效期应为{years}年")
    if expiry not in years_after(issue, years):
        raise DocumentError(f"Expiry date does not match the {years}-year validity period from the issue date",
                            field="expiry_date", rule="validity_period",
                            message_zh=f"有效期截止日期与{years}年有效期不符")


def check_not_expired(expiry: date | None, today: date) -> None:
    """The card is still good on its last day."""
    if expiry is not None and expiry < today:
        raise DocumentError("Document has expired", field="expiry_date", rule="expired",
                            message_zh="证件已过有效期")


def check_mod11_2(number: str) -> None:
    """ISO 7064 MOD 11-2, the check digit of the resident ID and the 18-digit permits ('X' stands for 10)."""
    if number[-1] != ric.calc_check_digit(number):
        raise DocumentError("Document number check digit is wrong", field="number", rule="checksum",
                            message_zh="证件号码校验位错误")


def check_format(ok: bool, expected: str, expected_zh: str) -> None:
    if not ok:
        raise DocumentError(f"Document number format is wrong: expected {expected}", field="number",
                            rule="format", message_zh=f"证件号码格式错误：应为{expected_zh}")


def check_birth_date(encoded: str, birth: date, pattern: str = "%Y%m%d") -> None:
    """The birth date printed on the card must be the one encoded in the number."""
    if encoded != birth.strftime(pattern):
        raise DocumentError("Date of birth does not match the document number", field="birth_date",
                            rule="birth_date_mismatch", message_zh="出生日期与证件号码不符")


def check_sex(digit: str, sex: str) -> None:
    """Odd sequence digit = male, even = female, as in the resident ID."""
    if ("M" if int(digit) % 2 else "F") != sex:
        raise DocumentError("Sex does not match the document number", field="sex", rule="sex_mismatch",
                            message_zh="性别与证件号码不符")
