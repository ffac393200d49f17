"""Per-group rates from the command line: `realname calibrate` on a grouped CSV, `realname bench groups` on a
thresholds file, and CSVs without groups (unchanged) or with empty ones (refused)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from tests.support import lfw_image, need_data
from typer.testing import CliRunner

from realname.cli.main import app
from realname.engine.local import LocalEngine
from realname.evaluation.extract import extract_one
from realname.verification.scoring import combine
from realname.verification.thresholds import load_thresholds

runner = CliRunner()
PEOPLE = {"female": ["Angelina_Jolie", "Zhang_Ziyi", "Ai_Sugiyama"], "male": ["Al_Gore", "Yao_Ming", "Hu_Jintao"]}
NUMBERS = (1, 2, 3)


def grouped_rows() -> list[tuple[Path, Path, bool, str]]:
    """Genuine pairs within each person, impostor pairs between people of the same group."""
    rows = []
    for group, names in PEOPLE.items():
        for name in names:
            rows += [(lfw_image(name, a), lfw_image(name, b), True, group) for a, b in itertools.pairwise(NUMBERS)]
        for n1, n2 in itertools.combinations(names, 2):
            rows += [(lfw_image(n1, k), lfw_image(n2, k), False, group) for k in NUMBERS]
    return rows


def write_csv(path: Path, rows: list[tuple[Path, Path, bool, str]], with_group: bool = True) -> Path:
    head = "left,right,same,group" if with_group else "left,right,same"
    lines = [f"{a},{b},{int(s)}" + (f",{g}" if with_group else "") for a, b, s, g in rows]
    path.write_text("\n".join([head, *lines]) + "\n")
    return path


def independent_rates(rows: list[tuple[Path, Path, bool, str]], engine: LocalEngine, th_file: Path,
                      strategy: str) -> dict[str, dict[str, tuple[int, int]]]:
    """(errors, pairs) per group and kind, from templates made here and counted with plain Python."""
    th = load_thresholds(th_file)
    ext = {p: extract_one(engine, p, False) for p in {r[0] for r in rows} | {r[1] for r in rows}}
    cos = {m: np.array([ext[a].templates[m].similarity(ext[b].templates[m]) for a, b, _, _ in rows])
           for m in ("sface", "sface_tta", "dlib")}
    scores = combine(th, strategy, cos)  # type: ignore[arg-type]
    t = th.strategies[strategy].threshold  # type: ignore[index]
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for g in PEOPLE:
        imp = [s for s, (_, _, same, gg) in zip(scores, rows, strict=True) if gg == g and not same]
        gen = [s for s, (_, _, same, gg) in zip(scores, rows, strict=True) if gg == g and same]
        out[g] = {"fmr": (sum(s >= t for s in imp), len(imp)), "fnmr": (sum(s < t for s in gen), len(gen))}
    return out


def ratio(a: tuple[int, int], b: tuple[int, int]) -> float | None:
    hi, lo = max(a[0] / a[1], b[0] / b[1]), min(a[0] / a[1], b[0] / b[1])
    return None if hi == 0 else math.inf if lo == 0 else hi / lo


@pytest.mark.models
def test_calibrate_and_bench_groups_report_each_group(tmp_path: Path, local_engine: LocalEngine) -> None:
    need_data("lfw")
    rows = grouped_rows()
    csv = write_csv(tmp_path / "grouped.csv", rows)
    th = tmp_path / "th.json"
    r = runner.invoke(app, ["calibrate", str(csv), "--fmr", "0.2", "--out", str(th), "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert "per group" in r.output and "FMR worst/best group" in r.output
    report = json.loads(th.with_suffix(".groups.json").read_text())
    assert set(report["strategies"]) == {"cascade", "fusion", "sface", "dlib"}

    for strategy in ("cascade", "sface"):
        mine = independent_rates(rows, local_engine, th, strategy)
        theirs = report["strategies"][strategy]
        assert set(theirs["groups"]) == {"female", "male"}
        for g, kinds in mine.items():
            for kind, (errors, pairs) in kinds.items():
                got = theirs["groups"][g][kind]
                assert (got["errors"], got["pairs"]) == (errors, pairs)
                assert got["rate"] == pytest.approx(errors / pairs)
                low, high = got["ci95"]
                assert 0 <= low <= errors / pairs <= high <= 1 and high > 0
        assert mine["female"]["fmr"][1] == mine["male"]["fmr"][1] == 9
        assert mine["female"]["fnmr"][1] == mine["male"]["fnmr"][1] == 6
        for kind in ("fmr", "fnmr"):
            d = theirs["differential"][kind]
            expected = ratio(mine["female"][kind], mine["male"][kind])
            if expected is None:
                assert d["ratio"] is None and not d["infinite"] and d["text"].startswith("n/a")
            elif math.isinf(expected):
                assert d["ratio"] is None and d["infinite"]
            else:
                assert d["ratio"] == pytest.approx(expected)

    # The same thresholds evaluated on their own give the same figures.
    out = tmp_path / "groups"
    r = runner.invoke(app, ["bench", "groups", str(csv), "--thresholds", str(th), "--out", str(out),
                            "--workers", "1"])
    assert r.exit_code == 0, r.output
    again = json.loads((out / "groups.json").read_text())
    assert again["strategies"] == report["strategies"]


@pytest.mark.models
def test_csv_without_groups_calibrates_as_before(tmp_path: Path) -> None:
    need_data("lfw")
    rows = [r for r in grouped_rows() if "Angelina_Jolie" in str(r[0]) or "Al_Gore" in str(r[0])]
    csv = write_csv(tmp_path / "plain.csv", rows, with_group=False)
    th = tmp_path / "th.json"
    r = runner.invoke(app, ["calibrate", str(csv), "--fmr", "0.2", "--out", str(th), "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert json.loads(th.read_text())["provenance"]["genuine_pairs"] == 4
    assert not th.with_suffix(".groups.json").exists() and "per group" not in r.output


def test_empty_group_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("left,right,same,group\na.jpg,b.jpg,1,female\na.jpg,c.jpg,0,\n")
    for args in (["calibrate", str(csv), "--out", str(tmp_path / "th.json")],
                 ["bench", "groups", str(csv), "--out", str(tmp_path / "o")]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "row 3: empty group" in r.output


def test_bench_groups_needs_a_group_column(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("left,right,same\na.jpg,b.jpg,1\n")
    r = runner.invoke(app, ["bench", "groups", str(csv), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "no group column" in r.output
    r = runner.invoke(app, ["bench", "groups", str(tmp_path), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "not a file" in r.output
