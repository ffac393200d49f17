"""The command line through Typer's runner: exit codes, output for the clerk, JSON for machines."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.support import lfw_image, need_data
from typer.testing import CliRunner

from realname.cli.main import app

runner = CliRunner()
FAKE = {"REALNAME_ENGINE": "fake"}


@pytest.fixture
def photos(tmp_path: Path, textured: np.ndarray) -> dict[str, Path]:
    paths = {"a": tmp_path / "a.png", "b": tmp_path / "b.png", "other": tmp_path / "o.png",
             "flat": tmp_path / "flat.png", "text": tmp_path / "t.jpg"}
    cv2.imwrite(str(paths["a"]), textured)
    cv2.imwrite(str(paths["b"]), textured)
    cv2.imwrite(str(paths["other"]), np.random.default_rng(3).integers(0, 255, textured.shape, np.uint8))
    cv2.imwrite(str(paths["flat"]), np.full_like(textured, 120))
    paths["text"].write_text("not a picture")
    return paths


def test_match_exits_0_and_hides_the_score(photos: dict[str, Path]) -> None:
    r = runner.invoke(app, ["compare", str(photos["a"]), str(photos["b"])], env=FAKE)
    assert r.exit_code == 0, r.output
    assert "PASS" in r.output and "score" not in r.output.lower()


def test_no_match_exits_1(photos: dict[str, Path]) -> None:
    r = runner.invoke(app, ["compare", str(photos["a"]), str(photos["other"])], env=FAKE)
    assert r.exit_code == 1 and "FAIL" in r.output


def test_json_has_the_score(photos: dict[str, Path]) -> None:
    r = runner.invoke(app, ["compare", str(photos["a"]), str(photos["b"]), "--json"], env=FAKE)
    body = json.loads(r.stdout)
    assert body["decision"] == "pass" and body["score"] > 0.99


@pytest.mark.parametrize("bad", ["text", "flat", "missing"])
def test_bad_input_exits_2(photos: dict[str, Path], bad: str) -> None:
    path = photos.get(bad, Path("/nonexistent/x.jpg"))
    r = runner.invoke(app, ["compare", str(photos["a"]), str(path)], env=FAKE)
    assert r.exit_code == 2 and "error" in r.output


def test_quality(photos: dict[str, Path]) -> None:
    r = runner.invoke(app, ["quality", str(photos["flat"]), "--json"], env=FAKE)
    assert r.exit_code == 1 and json.loads(r.stdout)["findings"][0]["code"] == "no_face"


@pytest.mark.models
def test_bench_and_calibrate_on_a_small_csv(tmp_path: Path) -> None:
    need_data("lfw")
    people = [("Abel_Pacheco", (1, 2, 3, 4)), ("Akhmed_Zakayev", (1, 2, 3)), ("Al_Gore", (1, 2, 3, 4))]
    rows = ["left,right,same"]
    for name, nums in people:
        rows += [f"{lfw_image(name, a)},{lfw_image(name, b)},1" for a, b in itertools.pairwise(nums)]
    for (n1, a), (n2, b) in [(people[0], people[1]), (people[1], people[2]), (people[0], people[2])]:
        rows += [f"{lfw_image(n1, x)},{lfw_image(n2, y)},0" for x, y in zip(a, b, strict=False)]
    csv = tmp_path / "pairs.csv"
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "bench"
    r = runner.invoke(app, ["bench", "pairs", str(csv), "--out", str(out), "--degrade", "idchip",
                            "--workers", "1"])
    assert r.exit_code == 0, r.output
    report = json.loads((out / "report.json").read_text())
    assert report["degrade"] == "idchip" and report["pairs"] == {"genuine": 8, "impostor": 10}
    assert set(report["strategies"]) == {"cascade", "fusion", "sface", "dlib"}
    assert report["strategies"]["cascade"]["accuracy_mean"] >= 0.8
    assert (out / "roc.png").stat().st_size > 1000 and (out / "det.png").stat().st_size > 1000

    th = tmp_path / "th.json"
    r = runner.invoke(app, ["calibrate", str(csv), "--fmr", "0.1", "--out", str(th), "--workers", "1"])
    assert r.exit_code == 0, r.output
    written = json.loads(th.read_text())
    assert written["provenance"]["target_fmr"] == 0.1 and written["provenance"]["impostor_pairs"] == 10
    r = runner.invoke(app, ["compare", str(lfw_image("Al_Gore", 1)), str(lfw_image("Al_Gore", 2)), "--json"],
                      env={"REALNAME_THRESHOLDS_FILE": str(th)})
    assert r.exit_code in (0, 1, 3), r.output


def test_bench_refuses_unknown_degradation(tmp_path: Path) -> None:
    r = runner.invoke(app, ["bench", "pairs", str(tmp_path), "--out", str(tmp_path / "o"), "--degrade", "blur"])
    assert r.exit_code == 2 and "idchip" in r.output
