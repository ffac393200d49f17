"""Query parameters several routes share: the days of a period, parsed by the one day parser."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from realname.errors import BadInputError
from realname.supervision.period import EARLIEST, parse_day

BAD_INPUT_ERROR = "realname_bad_input"  # a BadInputError raised in a validator: the 422 handler answers its code


def _day(value: object) -> date:
    """Every query day goes through the one parser (strict YYYY-MM-DD, in range, code ``bad_date``): pydantic's
    own date type takes 0 as 1970-01-01 and any year up to 9999, which overflowed the period's bounds (a 500)."""
    try:
        return parse_day(value if isinstance(value, str) else repr(value), "the day")
    except BadInputError as exc:
        raise PydanticCustomError(BAD_INPUT_ERROR, "{message}", {"code": exc.code, "message": exc.message}) from None


_DAY_HELP = (f"local date (operator time zone), YYYY-MM-DD, inclusive, from {EARLIEST.isoformat()} to a year "
             "after today")
Day = Annotated[date | None, BeforeValidator(_day), Query(description=_DAY_HELP)]
RequiredDay = Annotated[date, BeforeValidator(_day), Query(description=_DAY_HELP)]
