"""Valid documents built from their parts, so every test starts from a card that passes and breaks one thing."""

from __future__ import annotations

from datetime import date
from typing import Any

from stdnum.cn import ric

from realname.documents.models import CardData, DocType

TODAY = date(2024, 6, 1)
SPECIMEN_MRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
SPECIMEN_TODAY = date(2010, 1, 1)


def with_check_digit(body17: str) -> str:
    """17 characters -> the 18-character number with its ISO 7064 MOD 11-2 check digit."""
    return body17 + ric.calc_check_digit(body17 + "0")


def resident_number(region: str = "110101", birth: date = date(1990, 3, 7), seq: str = "123") -> str:
    return with_check_digit(region + birth.strftime("%Y%m%d") + seq)


def icao_check(field: str) -> str:
    """Written out independently of the code under test: weights 7, 3, 1; '<' = 0; A = 10."""
    values = [0 if c == "<" else int(c) if c.isdigit() else ord(c) - 55 for c in field]
    return str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


def td3(number: str = "E12345678", nationality: str = "CHN", birth: str = "900307", sex: str = "M",
        expiry: str = "300101", optional: str = "", surname: str = "ZHANG", given: str = "SAN",
        optional_check: str | None = None) -> str:
    """A passport MRZ with correct check digits."""
    line1 = f"P<{nationality}{surname}<<{given}".ljust(44, "<")
    num = number.ljust(9, "<")
    opt = optional.ljust(14, "<")
    opt_check = optional_check if optional_check is not None else icao_check(opt)
    body = (f"{num}{icao_check(num)}{nationality}{birth}{icao_check(birth)}{sex}"
            f"{expiry}{icao_check(expiry)}{opt}{opt_check}")
    composite = icao_check(body[0:10] + body[13:20] + body[21:43])
    return f"{line1}\n{body}{composite}"


_DEFAULTS: dict[DocType, dict[str, Any]] = {
    DocType.PRC_ID: {"number": resident_number(), "issue_date": date(2015, 5, 20), "expiry_date": date(2025, 5, 20)},
    DocType.HK_MACAU_PERMIT: {"number": "H12345678", "issue_date": date(2019, 1, 10), "expiry_date": date(2029, 1, 10)},
    DocType.TAIWAN_PERMIT: {"number": "12345678", "issue_date": date(2021, 8, 1), "expiry_date": date(2026, 8, 1)},
    DocType.HMT_RESIDENCE_PERMIT: {"number": resident_number("810000"), "issue_date": date(2020, 9, 1),
                                   "expiry_date": date(2025, 9, 1)},
    DocType.FOREIGN_PERMANENT_RESIDENCE: {"number": "USA110090030701", "nationality": "USA",
                                          "issue_date": date(2018, 4, 2), "expiry_date": date(2028, 4, 2)},
    DocType.PASSPORT: {"number": "E12345678", "mrz": td3(), "expiry_date": date(2030, 1, 1), "nationality": "CHN"},
}


def card(doc_type: DocType = DocType.PRC_ID, **overrides: Any) -> CardData:
    """A card of ``doc_type`` that is valid on :data:`TODAY`: born 1990-03-07, male."""
    fields: dict[str, Any] = {"doc_type": doc_type, "name": "张三", "sex": "M", "birth_date": date(1990, 3, 7)}
    fields.update(_DEFAULTS[doc_type])
    fields.update(overrides)
    return CardData(**fields)
