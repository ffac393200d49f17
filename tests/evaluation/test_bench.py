"""`realname bench pairs` counts quality refusals apart from failures to acquire, and reports the accepted pairs."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from tests.support import lfw_image
from typer.testing import CliRunner

from realname.cli.main import app

PEOPLE = ("Al_Gore", "Ari_Fleischer", "Andre_Agassi", "Ann_Veneman", "Alejandro_Toledo", "Ben_Affleck")


@pytest.mark.models
@pytest.mark.data
def test_refused_pairs_are_counted_apart_and_left_out_of_the_accepted_figures(tmp_path: Path) -> None:
    rows = []
    for i, name in enumerate(PEOPLE):
        a, b = lfw_image(name, 1), lfw_image(name, 2)
        other = lfw_image(PEOPLE[(i + 1) % len(PEOPLE)], 1)
        rows += [(a, b, 1), (a, other, 0)]
    # Two pairs more whose live photo holds only the left half of the face: refused, not decided.
    for name in PEOPLE[:2]:
        whole = cv2.imread(str(lfw_image(name, 2)))
        half = tmp_path / f"{name}_half.jpg"
        cv2.imwrite(str(half), whole[:, : whole.shape[1] // 2])
        rows.append((lfw_image(name, 1), half, 1))
    csv = tmp_path / "pairs.csv"
    csv.write_text("left,right,same\n" + "".join(f"{a},{b},{s}\n" for a, b, s in rows))

    got = CliRunner().invoke(app, ["bench", "pairs", str(csv), "--out", str(tmp_path / "out"), "--engine", "sface",
                                   "--workers", "1"])
    assert got.exit_code == 0, got.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    refused = report["quality_refusals"]
    assert refused["pairs"] == 2 and refused["genuine_pairs"] == 2 and refused["impostor_pairs"] == 0
    assert refused["by_finding"] == {"face_cut_off": 2}
    assert refused["rate"] == pytest.approx(2 / len(rows))
    assert report["failures_to_acquire"]["pairs"] == 0  # refusals are not failures to acquire
    sface = report["strategies"]["sface"]
    # On the accepted pairs every genuine pair matches at the packaged threshold; the cut ones were scored
    # as "no match" in the all-pairs figures (half a face scores like another person).
    assert sface["accepted_pairs"]["at_packaged_threshold"]["false_non_match_rate"] == 0.0
    assert sface["at_packaged_threshold"]["false_non_match_rate"] > 0.0
    assert "refused for quality" in got.output
