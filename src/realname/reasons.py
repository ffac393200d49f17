"""The one catalogue of the texts behind reason and hint codes, in Chinese and English.

Reason codes say why a live check or a face match failed (``different_person``, ``face_mismatch``); each has a
short label (what happened: the back office's lists and charts) and advice (what to do: what the clerk can tell the
customer, the API's ``advice``). Hint codes are what the kiosk tells the customer in front of the camera
(``too_dark``). The texts live in ``reasons.json`` beside this module: the server reads them here and serves the
same file to the pages (``/static/reasons.json``), so a wording changes in one place.

Standard library only, so that liveness/, registration/ and web/ can all import it; the file is read on first use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from realname.errors import ConfigError

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def in_(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Reason:
    label: Text  # what happened, in a few words
    advice: Text  # what the customer can do about it


@dataclass(frozen=True)
class Catalogue:
    reasons: dict[str, Reason]
    hints: dict[str, Text]


@cache
def raw() -> bytes:
    """The catalogue file as shipped (what the pages get)."""
    return (resources.files("realname") / "reasons.json").read_bytes()


@cache
def etag() -> str:
    return '"' + hashlib.sha256(raw()).hexdigest()[:32] + '"'


def _text(entry: Any, where: str) -> Text:
    if not isinstance(entry, dict) or not all(isinstance(entry.get(lang), str) and entry[lang] for lang in LANGS):
        raise ConfigError(f"reasons.json: {where} needs a non-empty zh and en text")
    return Text(entry["zh"], entry["en"])


@cache
def catalogue() -> Catalogue:
    """The parsed catalogue; a broken file is a ConfigError naming the entry."""
    try:
        data = json.loads(raw())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"reasons.json is not valid JSON: {exc}") from None
    reasons = {code: Reason(_text(e, f"reason {code}"), _text(e.get("advice"), f"reason {code}'s advice"))
               for code, e in data["reasons"].items()}
    hints = {code: _text(e, f"hint {code}") for code, e in data["hints"].items()}
    return Catalogue(reasons, hints)


def advice(code: str, lang: Lang = "en") -> str:
    """What to do about a failure; an unknown code is answered with itself (a record stays readable)."""
    r = catalogue().reasons.get(code)
    return code if r is None else r.advice.in_(lang)


def hint(code: str) -> Text:
    """A positioning hint's texts; an unknown code is a KeyError (the hints are this package's own)."""
    return catalogue().hints[code]
