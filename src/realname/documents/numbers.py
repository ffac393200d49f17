"""Document numbers in one canonical form: ASCII ``[0-9A-Z]``, no spaces.

Every number from a card passes through :func:`canonical_number` before any rule checks it and before it is
stored or indexed, so one document is one person whatever its spelling. Readers and keyboards send full-width
forms, spaces and a lower-case ``x``; a hostile client can send digits of other scripts (Arabic-Indic ``٠``,
Devanagari ``०``) or superscripts, which ``str.isdigit`` and regex ``\\d`` accept but the blind index would key
apart. Digits of any script fold to the ASCII digit of the same value; anything else outside ``[0-9A-Za-z]``
is refused, never passed on.
"""

from __future__ import annotations

import unicodedata

from realname.errors import DocumentError

_ASCII_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def canonical_number(raw: str) -> str:
    """``raw`` -> the canonical number, or :class:`DocumentError` (field ``number``, rule ``format``)."""
    # NFKC folds full-width forms, superscripts and circled digits to plain ones; decimal digits of other
    # scripts survive NFKC and are folded by their numeric value.
    folded: list[str] = []
    for ch in unicodedata.normalize("NFKC", raw):
        if ch.isspace():
            continue
        value = unicodedata.decimal(ch, None)
        folded.append(str(value) if value is not None else ch)
    number = "".join(folded)
    bad = next((ch for ch in number if ch not in _ASCII_ALNUM), None)
    if bad is not None:
        # The caller's number is personal data: name the character's class, never the number itself.
        raise DocumentError(f"Document number may hold only the digits 0-9 and the letters A-Z, not "
                            f"U+{ord(bad):04X} ({unicodedata.name(bad, 'unnamed character').lower()})",
                            field="number", rule="format", message_zh="证件号码只能包含数字0-9和字母A-Z")
    if not number:
        raise DocumentError("Document number is empty", field="number", rule="format", message_zh="证件号码为空")
    return number.upper()


def is_canonical(number: str) -> bool:
    return bool(number) and number.isascii() and number.isalnum() and number == number.upper()
