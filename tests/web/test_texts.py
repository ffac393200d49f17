"""The one catalogue of reason and hint texts (realname/reasons.json): every code the server can emit has its
Chinese and English texts there, the pages get it from the server and no longer hold their own copies.

The codes are found in the source, not listed here again: the reason of every ``Check(...)`` the live check builds,
the reasons of every ``CheckOutcome(...)`` and the hint codes the live feedback collects, following names,
conditionals and local helper functions back to their string constants."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import realname
from realname import reasons
from realname.api.app import create_app
from realname.config import Settings
from realname.engine.quality import REFUSING
from realname.supervision.reports import CATEGORIES
from realname.web.routes import STATIC

SRC = Path(realname.__file__).parent


class Strings:
    """The string constants an expression of one module can evaluate to, as far as the module itself says."""

    def __init__(self, path: Path) -> None:
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.functions = {n.name: n for n in ast.walk(self.tree) if isinstance(n, ast.FunctionDef)}

    def of(self, node: ast.AST | None, seen: frozenset[str] = frozenset()) -> set[str]:
        match node:
            case ast.Constant(value=str(value)):
                return {value}
            case ast.List(elts=items) | ast.Tuple(elts=items):
                return set().union(*(self.of(e, seen) for e in items))
            case ast.Starred(value=inner):
                return self.of(inner, seen)
            case ast.IfExp(body=body, orelse=orelse):
                return self.of(body, seen) | self.of(orelse, seen)
            case ast.BoolOp(values=values):
                return set().union(*(self.of(v, seen) for v in values))
            case ast.BinOp(left=left, right=right):
                return self.of(left, seen) | self.of(right, seen)
            case ast.Name(id=name) | ast.Attribute(value=ast.Name(id="self"), attr=name) if name not in seen:
                return self._bound(node, name, seen | {name})
            case ast.Call(func=ast.Name(id=name)) if name in self.functions and name not in seen:
                returns = [r.value for r in ast.walk(self.functions[name]) if isinstance(r, ast.Return)]
                return set().union(*(self.of(v, seen | {name}) for v in returns))
            case ast.Call(args=args):  # list(...), tuple(...): what goes in
                return set().union(*(self.of(a, seen) for a in args))
        return set()

    def _bound(self, ref: ast.AST, name: str, seen: frozenset[str]) -> set[str]:
        """What a name (or self.<name>) is given: assignments, ``+=``, ``.append(...)`` and ``== "..."`` tests."""
        def same(target: ast.AST) -> bool:
            if isinstance(ref, ast.Name):
                return isinstance(target, ast.Name) and target.id == name
            return (isinstance(target, ast.Attribute) and target.attr == name and isinstance(target.value, ast.Name)
                    and target.value.id == "self")

        def targets(t: ast.AST) -> list[ast.AST]:
            return [*t.elts] if isinstance(t, ast.Tuple) else [t]

        found: set[str] = set()
        for n in ast.walk(self.tree):
            if isinstance(n, ast.Assign) and any(same(t) for tt in n.targets for t in targets(tt)):
                if not isinstance(n.targets[0], ast.Tuple):  # a tuple from a call says nothing here
                    found |= self.of(n.value, seen)
            elif isinstance(n, ast.AugAssign) and same(n.target):
                found |= self.of(n.value, seen)
            elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "append"
                  and same(n.func.value)):
                found |= self.of(n.args[0], seen)
            elif (isinstance(n, ast.Compare) and same(n.left) and isinstance(n.ops[0], ast.Eq)):
                found |= self.of(n.comparators[0], seen)
        return found


def calls(module: Strings, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(module.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id == name]


def argument(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def liveness_reasons() -> set[str]:
    """The reason of every check the live check builds (liveness/session.py)."""
    module = Strings(SRC / "liveness" / "session.py")
    found: set[str] = set()
    for call in calls(module, "Check"):
        codes = module.of(argument(call, 4, "reason"))
        assert codes, f"a Check whose reason cannot be followed, line {call.lineno}"
        found |= codes
    return found


def outcome_reasons() -> set[str]:
    """The reasons of every outcome the live check gives beyond the liveness ones (live_check.py), and the quality
    findings that make the compare refuse a live photo (its outcome carries the finding's code)."""
    module = Strings(SRC / "live_check.py")
    found: set[str] = set(REFUSING)
    for call in calls(module, "CheckOutcome"):
        found |= module.of(argument(call, 1, "reasons"))
    return found


def hint_codes() -> set[str]:
    """Every hint the live feedback collects (registration/feedback.py)."""
    module = Strings(SRC / "registration" / "feedback.py")
    return module.of(ast.Name(id="codes"))


def test_the_code_finder_finds_the_codes() -> None:
    """A guard on the finder itself: known codes of each kind are found (by each way they are written)."""
    assert {"too_short", "turn_further", "action_missing", "not_frontal_between", "different_person",
            "light_response"} <= liveness_reasons()
    assert len(liveness_reasons()) >= 19
    assert outcome_reasons() == {"no_face", "portrait_unusable", "face_mismatch", "match_uncertain", "face_cut_off"}
    assert hint_codes() == {"no_face", "multiple_faces", "face_cut_off", "move_closer", "face_off_center", "too_dark",
                            "too_bright"}


def test_every_code_the_server_emits_has_both_texts() -> None:
    cat = reasons.catalogue()
    for code in liveness_reasons() | outcome_reasons():
        r = cat.reasons.get(code)
        assert r is not None, f"reason {code} is not in reasons.json"
        assert all((r.label.zh, r.label.en, r.advice.zh, r.advice.en)), code
        assert re.search(r"[\u4e00-\u9fff]", r.label.zh + r.advice.zh), f"{code}: zh is not Chinese"
    for code in hint_codes():
        assert code in cat.hints, f"hint {code} is not in reasons.json"
        assert cat.hints[code].zh and cat.hints[code].en
    # The codes other parts of the code and the pages name are known too.
    assert set(CATEGORIES) <= set(cat.reasons)
    from realname.evaluation.synthetic import FAIL_REASONS

    assert {c for codes in FAIL_REASONS for c in codes} <= set(cat.reasons)
    kiosk = (STATIC / "kiosk.js").read_text(encoding="utf-8")
    block = re.search(r"const CATEGORY = \{(.*?)\};", kiosk, re.S)
    assert block is not None
    named = {code for codes in re.findall(r"\[(.*?)\]", block.group(1), re.S) for code in re.findall(r'"(\w+)"', codes)}
    assert len(named) >= 10 and named <= set(cat.reasons)


def test_the_catalogue_holds_no_stray_codes() -> None:
    """Every entry is one the code emits (or the kiosk's 'nothing to fix'): no text outlives its code."""
    cat = reasons.catalogue()
    assert set(cat.reasons) == liveness_reasons() | outcome_reasons()
    assert set(cat.hints) == hint_codes() | {"ok"}


def test_advice_comes_from_the_catalogue() -> None:
    assert reasons.advice("different_person") == "The same person must stay in front of the camera"
    assert reasons.advice("different_person", "zh") == reasons.catalogue().reasons["different_person"].advice.zh
    assert reasons.advice("not_a_code") == "not_a_code"  # an old record stays readable
    with pytest.raises(KeyError):
        reasons.hint("not_a_code")


def test_the_pages_hold_no_copies() -> None:
    i18n = (STATIC / "i18n.js").read_text(encoding="utf-8")
    assert not re.findall(r'^\s*"(?:reason|hint|advice)\.\w+"\s*:', i18n, re.M)
    assert '"./reasons.json"' in i18n


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("texts")
    return TestClient(create_app(Settings(database_url=f"sqlite:///{tmp / 'r.db'}", engine="fake")))


def test_the_catalogue_is_served_and_cacheable(client: TestClient) -> None:
    r = client.get("/static/reasons.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.content == (SRC / "reasons.json").read_bytes()
    assert r.json()["reasons"]["different_person"]["zh"] == reasons.catalogue().reasons["different_person"].label.zh
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-cache"
    etag = r.headers["etag"]
    again = client.get("/static/reasons.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    head = client.head("/static/reasons.json")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(r.content))


def test_nothing_is_read_at_import_time() -> None:
    """Importing the catalogue's module or the live check reads neither the catalogue nor the thresholds file,
    and the live check does not load pydantic for its threshold until a limit is made."""
    code = ("import sys, realname.reasons as r, realname.liveness.session as s; "
            "print(r.raw.cache_info().currsize, s.packaged_same_person.cache_info().currsize, "
            "'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["0", "0", "False"], out.stdout + out.stderr
