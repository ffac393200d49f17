"""ICAO 9303 TD3 (passport, 2 lines x 44) machine-readable zone, with every check digit verified.

Check digits are verified before any field is interpreted, so a misread character is reported as the
broken check digit (rule ``check_digit_<field>``) rather than as a confusing date or name error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from realname.errors import DocumentError

LINE_LENGTH = 44
_LINE = re.compile(r"^[A-Z0-9<]{44}$")
_WEIGHTS = (7, 3, 1)
# ICAO 9303 Part 3: Germany keeps its one-letter code in the MRZ.
_SPECIAL_STATES = {"D": "DEU"}
_SEXES: dict[str, Literal["M", "F", "<"]] = {"M": "M", "F": "F", "X": "<", "<": "<"}  # X: unspecified (8th ed.)


@dataclass(frozen=True)
class Mrz:
    document_type: str
    issuing_state: str
    surname: str
    given_names: str
    number: str
    nationality: str
    birth_date: date
    sex: Literal["M", "F", "<"]
    expiry_date: date
    optional_data: str


def char_value(ch: str) -> int:
    """'<' = 0, digits as themselves, A-Z = 10..35."""
    if ch == "<":
        return 0
    if ch.isdigit():
        return int(ch)
    return ord(ch) - ord("A") + 10


def check_digit(field: str) -> str:
    """ICAO 9303 Part 3 check digit: weights 7, 3, 1 repeating, sum modulo 10."""
    return str(sum(char_value(ch) * _WEIGHTS[i % 3] for i, ch in enumerate(field)) % 10)


def _broken(which: str, label: str, label_zh: str) -> DocumentError:
    return DocumentError(f"Passport MRZ check digit for the {label} is wrong; scan the passport again",
                         field="mrz", rule=f"check_digit_{which}",
                         message_zh=f"护照机读区{label_zh}校验位错误，请重新扫描")


def _format_error(detail: str, detail_zh: str) -> DocumentError:
    return DocumentError(f"Passport MRZ cannot be read: {detail}", field="mrz", rule="format",
                         message_zh=f"护照机读区无法识别：{detail_zh}")


def _lines(text: str) -> tuple[str, str]:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) != 2 or any(len(line) != LINE_LENGTH for line in lines):
        raise _format_error("expected two lines of 44 characters", "应为两行，每行44个字符")
    if not all(_LINE.match(line) for line in lines):
        raise _format_error("only A-Z, 0-9 and '<' are allowed", "只允许A-Z、0-9和'<'")
    if not lines[0].startswith("P"):
        raise _format_error("not a passport (the first line must start with P)", "不是护照（第一行应以P开头）")
    return lines[0], lines[1]


def _verify(line2: str) -> None:
    checks = (("number", 0, 9, "document number", "证件号码"),
              ("birth_date", 13, 19, "date of birth", "出生日期"),
              ("expiry_date", 21, 27, "expiry date", "有效期"))
    for which, start, end, label, label_zh in checks:
        if line2[end] != check_digit(line2[start:end]):
            raise _broken(which, label, label_zh)
    optional, digit = line2[28:42], line2[42]
    empty_ok = optional == "<" * 14 and digit in ("<", "0")
    if not empty_ok and digit != check_digit(optional):
        raise _broken("optional_data", "personal number", "个人号码")
    if line2[43] != check_digit(line2[0:10] + line2[13:20] + line2[21:43]):
        raise _broken("composite", "whole line", "整行")


def _date(yymmdd: str, century: int) -> date:
    try:
        return date(century + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))  # '<' fails int()
    except ValueError:
        raise _format_error(f"{yymmdd} is not a date", f"{yymmdd}不是有效日期") from None


def _birth_date(yymmdd: str, today: date) -> date:
    """Two-digit birth year: 20YY unless that is after ``today``, then 19YY."""
    born = _date(yymmdd, 2000)
    return born if born <= today else _date(yymmdd, 1900)


def _state(code: str) -> str:
    code = code.replace("<", "")
    return _SPECIAL_STATES.get(code, code)


def parse_td3(text: str, today: date | None = None) -> Mrz:
    """Parse a passport MRZ (two lines separated by a newline); ``today`` places two-digit birth years."""
    line1, line2 = _lines(text)
    _verify(line2)
    names = line1[5:].rstrip("<")
    surname, _, given = names.partition("<<")
    sex = _SEXES.get(line2[20])
    if sex is None:
        raise _format_error(f"sex must be M, F, X or <, not {line2[20]}", f"性别应为M、F、X或<，而不是{line2[20]}")
    return Mrz(document_type=line1[0:2].rstrip("<"),
               issuing_state=_state(line1[2:5]),
               surname=surname.replace("<", " ").strip(),
               given_names=given.replace("<", " ").strip(),
               number=line2[0:9].rstrip("<"),
               nationality=_state(line2[10:13]),
               birth_date=_birth_date(line2[13:19], today or date.today()),
               sex=sex,
               expiry_date=_date(line2[21:27], 2000),
               optional_data=line2[28:42].rstrip("<"))
