"""One document, one key: every spelling of a number either becomes the same canonical number or is refused."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.documents.builders import SPECIMEN_TODAY, TODAY, card

from realname.documents import CardData, DocType, ValidDocument, parse_card, validate_document
from realname.documents.numbers import canonical_number
from realname.errors import DocumentError

# Code points whose digit value is d: ASCII, full-width, Arabic-Indic, extended Arabic-Indic, Devanagari, Bengali,
# Thai, mathematical bold, superscript, subscript. NFKC or the decimal value folds every one of them.
_DIGIT_FORMS = [lambda d: chr(0x30 + d), lambda d: chr(0xFF10 + d), lambda d: chr(0x660 + d),
                lambda d: chr(0x6F0 + d), lambda d: chr(0x966 + d), lambda d: chr(0x9E6 + d),
                lambda d: chr(0xE50 + d), lambda d: chr(0x1D7CE + d), lambda d: "⁰¹²³⁴⁵⁶⁷⁸⁹"[d],
                lambda d: chr(0x2080 + d)]
_SPACES = [" ", "\u3000", "\u00a0", "\t", "\u2009", "\u202f", "\n"]


def _harmless(ch: str) -> bool:
    """A character whose insertion cannot spell another valid number: no digit, no ASCII letter after NFKC."""
    folded = unicodedata.normalize("NFKC", ch)
    return not any((c.isascii() and c.isalnum()) or unicodedata.decimal(c, None) is not None for c in folded)


@st.composite
def spellings(draw: st.DrawFn, number: str) -> str:
    out = []
    for ch in number:
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(_SPACES)))
        if ch.isdigit():
            out.append(draw(st.sampled_from(_DIGIT_FORMS))(int(ch)))
        else:
            out.append(draw(st.sampled_from([ch, ch.lower(), chr(ord(ch) + 0xFEE0)])))  # full-width A-Z
    if draw(st.integers(0, 4)) == 0:  # now and then a stray character of any kind somewhere
        stray = draw(st.characters(codec="utf-8").filter(_harmless))
        out.insert(draw(st.integers(0, len(out))), stray)
    return "".join(out)


def _valid(doc_type: DocType, number: str) -> ValidDocument:
    base = card(doc_type).model_dump()
    raw = {**base, "number": number, "doc_type": doc_type.value}
    today = SPECIMEN_TODAY if doc_type is DocType.PASSPORT and "mrz" not in base else TODAY
    return validate_document(parse_card(raw), today)


@pytest.mark.parametrize("doc_type", list(DocType))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_spelling_is_the_same_number_or_refused(doc_type: DocType, data: st.DataObject) -> None:
    original = _valid(doc_type, card(doc_type).number).number
    spelled = data.draw(spellings(original))
    try:
        got = _valid(doc_type, spelled).number
    except DocumentError as exc:
        assert exc.field == "number" and exc.rule in ("format", "checksum", "number_mismatch")
        assert original not in exc.message  # the refusal never echoes the number
        return
    assert got == original


@pytest.mark.parametrize("spelled", [
    "11010519900307" + "\u0661\u0662\u0663" + "X",  # Arabic-Indic sequence digits
    "11010519900307" + "\u0967\u0968\u0969" + "X",  # Devanagari
    "１１０１０５１９９００３０７１２３x",  # full-width, lower-case x
    "110105 19900307 123X",
    "11010519900307\u00b9\u00b2\u00b3X",  # superscripts: once a 500 that logged the first 14 characters
    "11010519900307123\u2169",  # ROMAN NUMERAL TEN is X under NFKC
])
def test_other_scripts_fold_to_one_ascii_number(spelled: str) -> None:
    assert canonical_number(spelled) == "11010519900307123X"


@pytest.mark.parametrize("spelled", ["1101051990030712\u200b3X", "110105-19900307123X", "11010519900307123X\u0301",
                                     "", "  ", "11010519900307123Ｘ\ufeff"])
def test_anything_else_is_an_invalid_document(spelled: str) -> None:
    with pytest.raises(DocumentError) as info:
        canonical_number(spelled)
    assert info.value.field == "number" and info.value.rule == "format" and info.value.message_zh


def test_a_valid_document_only_takes_a_canonical_number() -> None:
    doc = validate_document(card(DocType.TAIWAN_PERMIT, number="１２３４ ５６７８"), TODAY)
    assert doc.number == "12345678"
    with pytest.raises(ValueError, match="canonical"):
        ValidDocument(**{**doc.model_dump(), "number": "١٢٣٤٥٦٧٨"})


def test_card_data_refuses_before_any_rule() -> None:
    with pytest.raises(DocumentError) as info:
        CardData(**{**card().model_dump(), "number": "11010519900307¼23X"})
    assert info.value.rule == "format"
