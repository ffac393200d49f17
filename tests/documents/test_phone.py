"""MSISDN normalisation and operator segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from realname.documents.phone import NumberSegments, parse_msisdn
from realname.errors import ConfigError, DocumentError

OPERATORS = {
    "china_mobile": "134 135 136 137 138 139 147 150 151 152 157 158 159 172 178 182 183 184 187 188 195 197 198",
    "china_unicom": "130 131 132 145 155 156 166 171 175 176 185 186 196",
    "china_telecom": "133 149 153 173 177 180 181 189 190 191 193 199",
    "china_broadnet": "192",
}
SEGMENTS = [(prefix, op) for op, prefixes in OPERATORS.items() for prefix in prefixes.split()]


@pytest.mark.parametrize("text", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "+8613812345678",
                                  "008613812345678", " 138-1234-5678 "])
def test_parse_msisdn(text: str) -> None:
    assert parse_msisdn(text) == "+8613812345678"


def test_other_region() -> None:
    assert parse_msisdn("9123 4567", region="HK") == "+85291234567"


@pytest.mark.parametrize("text", ["", "abc", "12345", "1381234567", "138123456789", "+86 100 0000 0000"])
def test_invalid_phone_number(text: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_msisdn(text)
    assert (info.value.field, info.value.rule) == ("msisdn", "invalid_phone_number")
    assert info.value.message_zh == "手机号码无效"


def test_fixed_line_is_not_a_mobile() -> None:
    with pytest.raises(DocumentError) as info:
        parse_msisdn("010 1234 5678")
    assert (info.value.field, info.value.rule) == ("msisdn", "not_mobile")
    assert parse_msisdn("010 1234 5678", mobile_only=False) == "+861012345678"


@pytest.fixture(scope="module")
def segments() -> NumberSegments:
    return NumberSegments.load()


@pytest.mark.parametrize(("prefix", "operator"), SEGMENTS)
def test_packaged_segments(segments: NumberSegments, prefix: str, operator: str) -> None:
    assert segments.operator_of(f"+86{prefix}12345678") == operator


def test_longest_prefix_wins(segments: NumberSegments) -> None:
    assert segments.operator_of("+8617001234567") == "china_telecom"
    assert segments.operator_of("+8617031234567") == "china_mobile"
    assert segments.operator_of("+8617041234567") == "china_unicom"


@pytest.mark.parametrize("e164", ["+85291234567", "+8614012345678", "+86", "+12025550123"])
def test_unknown_operator(segments: NumberSegments, e164: str) -> None:
    assert segments.operator_of(e164) is None


def test_load_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "seg.csv"
    path.write_text("prefix,operator\n13,old\n138,new\n", encoding="utf-8")
    seg = NumberSegments.load(path)
    assert seg.operator_of("+8613812345678") == "new" and seg.operator_of("+8613012345678") == "old"


@pytest.mark.parametrize("text", ["code,name\n138,x\n", "prefix,operator\n13a,x\n", "prefix,operator\n138,\n",
                                  "prefix,operator\n138,a\n138,b\n", ""])
def test_bad_segment_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "seg.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        NumberSegments.load(path)


def test_missing_segment_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        NumberSegments.load(tmp_path / "absent.csv")
