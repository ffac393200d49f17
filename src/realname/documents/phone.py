"""Phone numbers: E.164 normalisation with ``phonenumbers``, and the operator of a Chinese mobile number.

Operator segments are data (``data/cn_segments.csv``, columns ``prefix,operator``), not code, so a new
segment is a one-line change; matching takes the longest prefix, so ``1703`` can override ``170``.
"""

from __future__ import annotations

import csv
import io
from importlib.resources import files
from pathlib import Path

import phonenumbers

from realname.errors import ConfigError, DocumentError

_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _invalid(text: str) -> DocumentError:
    return DocumentError(f"Phone number {text!r} is not a valid number", field="msisdn",
                         rule="invalid_phone_number", message_zh="手机号码无效")


def parse_msisdn(text: str, region: str = "CN", *, mobile_only: bool = True) -> str:
    """Any usual spelling (``138 1234 5678``, ``+86-138...``) -> E.164 ``+8613812345678``.

    ``region`` is assumed when the number has no ``+``; ``mobile_only`` refuses fixed lines (a SIM has a
    mobile number) with rule ``not_mobile``.
    """
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise _invalid(text) from None
    if not phonenumbers.is_valid_number(number):
        raise _invalid(text)
    if mobile_only and phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise DocumentError(f"Phone number {text!r} is not a mobile number", field="msisdn", rule="not_mobile",
                            message_zh="不是手机号码")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class NumberSegments:
    """Chinese mobile number segments (号段) -> operator id, e.g. ``china_mobile``."""

    COUNTRY_PREFIX = "+86"

    def __init__(self, segments: dict[str, str]) -> None:
        self.segments = dict(segments)
        self._lengths = sorted({len(p) for p in self.segments}, reverse=True)

    @classmethod
    def load(cls, path: str | Path | None = None) -> NumberSegments:
        """Read the CSV at ``path``, or the packaged table."""
        if path is None:
            text = files("realname.documents").joinpath("data/cn_segments.csv").read_text(encoding="utf-8")
            source = "packaged cn_segments.csv"
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot read number segments {path}: {exc.strerror}") from None
            source = str(path)
        return cls(_parse(text, source))

    def operator_of(self, e164: str) -> str | None:
        """Operator of a ``+86`` number by longest prefix of the national number; None if not Chinese or unknown."""
        if not e164.startswith(self.COUNTRY_PREFIX):
            return None
        national = e164[len(self.COUNTRY_PREFIX):]
        for length in self._lengths:
            operator = self.segments.get(national[:length])
            if operator is not None and len(national) >= length:
                return operator
        return None


def _parse(text: str, source: str) -> dict[str, str]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"prefix", "operator"} <= set(reader.fieldnames):
        raise ConfigError(f"{source}: expected columns prefix,operator")
    segments: dict[str, str] = {}
    for line, row in enumerate(reader, start=2):
        prefix, operator = (row["prefix"] or "").strip(), (row["operator"] or "").strip()
        if not prefix.isdigit() or not operator:
            raise ConfigError(f"{source} line {line}: need a digit prefix and an operator")
        if prefix in segments:
            raise ConfigError(f"{source} line {line}: prefix {prefix} listed twice")
        segments[prefix] = operator
    return segments
