"""The ISO/IEC 30107-3 style harness: manifest parsing, error rates from records, and one run on real clips."""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from tests.support import need_data
from typer.testing import CliRunner

from realname.cli.main import app
from realname.engine import build_engine
from realname.errors import DataSourceError
from realname.evaluation.liveness.evaluate import (
    ALL_ATTACKS,
    AttackRate,
    ClipRecord,
    Report,
    Row,
    det_curves,
    evaluate,
    read_manifest,
    summarize,
    write_report,
)
from realname.liveness.challenges import Action

HEAD_MOVES = "turn_left;turn_right;look_down;look_up"
fake_engine = functools.partial(build_engine, "fake")


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    """A folder with a manifest's neighbours: empty files stand in for clips (they exist, they cannot be read)."""
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        (tmp_path / name).write_bytes(b"")
    return tmp_path


def manifest(folder: Path, text: str) -> Path:
    p = folder / "manifest.csv"
    p.write_text(text)
    return p


# --- manifest --------------------------------------------------------------------------------------------

def test_good_manifest(clips: Path) -> None:
    other = clips / "elsewhere"
    other.mkdir()
    (other / "d.mp4").write_bytes(b"")
    rows = read_manifest(manifest(clips, "\ufeffpath,label,attack_type,challenge\n"
                                         f"a.mp4,genuine,,{HEAD_MOVES}\n"
                                         "b.mp4,Attack,screen_replay,\n"
                                         "\n"
                                         "c.mp4,blink,,\n"
                                         f"{other / 'd.mp4'},attack,printed photo,\"blink, turn_left\"\n"))
    assert [r.label for r in rows] == ["genuine", "attack", "blink", "attack"]
    assert rows[0].path == clips / "a.mp4"
    assert rows[0].challenge == (Action.TURN_LEFT, Action.TURN_RIGHT, Action.LOOK_DOWN, Action.LOOK_UP)
    assert rows[1].challenge is None  # empty: the actions the clip shows
    assert rows[1].attack_type == "screen_replay"
    assert rows[2].attack_type is None
    assert rows[3].path == other / "d.mp4"  # absolute paths stay as they are
    assert rows[3].challenge == (Action.BLINK, Action.TURN_LEFT)


def test_the_optional_columns_may_be_left_out(clips: Path) -> None:
    rows = read_manifest(manifest(clips, "label,path\ngenuine,a.mp4\n"))
    assert rows == [Row(clips / "a.mp4", "genuine", None, None, 2)]


@pytest.mark.parametrize(("text", "column", "where"), [
    ("path,attack_type,challenge\na.mp4,,\n", "label", "header"),
    ("path,label,chalenge\na.mp4,genuine,\n", "chalenge", "header"),
    ("path,label\na.mp4,genuine\nb.mp4,bonafide\n", "label", "row 2 (line 3)"),
    (f"path,label,attack_type,challenge\na.mp4,genuine,,{HEAD_MOVES};wink\n", "challenge", "row 1 (line 2)"),
    ("path,label\na.mp4,genuine\nmissing.mp4,genuine\n", "path", "row 2 (line 3)"),
    ("path,label\n,genuine\n", "path", "row 1 (line 2)"),
    ("path,label,attack_type\na.mp4,attack,\n", "attack_type", "row 1 (line 2)"),
    ("path,label,attack_type\na.mp4,genuine,screen_replay\n", "attack_type", "row 1 (line 2)"),
    ("path,label,challenge\nc.mp4,blink,blink\n", "challenge", "row 1 (line 2)"),
    ("path,label,challenge\na.mp4,genuine,blink,turn_left\n", "challenge", "row 1 (line 2)"),
])
def test_bad_manifest_names_file_row_and_column(clips: Path, text: str, column: str, where: str) -> None:
    path = manifest(clips, text)
    with pytest.raises(DataSourceError) as e:
        read_manifest(path)
    assert str(path) in e.value.message
    assert f"'{column}'" in e.value.message
    assert where in e.value.message


def test_unknown_action_is_named(clips: Path) -> None:
    with pytest.raises(DataSourceError, match=r"unknown action.*wink"):
        read_manifest(manifest(clips, "path,label,challenge\na.mp4,genuine,turn_left;wink\n"))


@pytest.mark.parametrize("text", ["", "path,label\n"])
def test_empty_manifest(clips: Path, text: str) -> None:
    with pytest.raises(DataSourceError, match="manifest"):
        read_manifest(manifest(clips, text))


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="no such manifest") as e:
        read_manifest(tmp_path / "nope.csv")
    assert e.value.code == "file_not_found"


# --- error rates from records ----------------------------------------------------------------------------

def rec(label: str, passed: bool, score: float | None = None, kind: str | None = None,
        reasons: tuple[str, ...] = ()) -> ClipRecord:
    return ClipRecord(f"{label}.mp4", label, kind, passed, score, reasons)  # type: ignore[arg-type]


RECORDS = [
    rec("genuine", True, 0.5),
    rec("genuine", True, 0.2),
    rec("genuine", False, -0.3, reasons=("action_missing", "turn_further", "action_missing")),
    rec("genuine", False, None, reasons=("challenge_empty",)),
    rec("attack", False, -0.1, "screen_replay"),
    rec("attack", True, 0.3, "screen_replay"),
    rec("attack", False, None, "printed_photo", ("unreadable_video",)),
    rec("attack", False, -0.5, "printed_photo"),
    rec("attack", False, -0.6, "printed_photo"),
    rec("blink", True),
    rec("blink", False, reasons=("no_blink",)),
    rec("blink", True),
]


def test_summary_rates() -> None:
    s = summarize(RECORDS)
    assert s.attacks == {"printed_photo": AttackRate(3, 0), "screen_replay": AttackRate(2, 1)}
    assert s.attacks["screen_replay"].apcer == 0.5
    assert s.max_apcer == 0.5
    assert s.worst_attack_type == "screen_replay"
    assert s.bpcer == 0.5
    assert s.acer == 0.5
    assert s.blink_recall == pytest.approx(2 / 3)
    assert (s.genuine, s.genuine_rejected, s.blinks, s.blinks_detected) == (4, 2, 3, 2)
    # Each rejected clip counts once per distinct reason.
    assert s.rejection_reasons == {"action_missing": 1, "turn_further": 1, "challenge_empty": 1}


def test_summary_without_a_class_reports_none() -> None:
    s = summarize([rec("blink", True)])
    assert s.attacks == {}
    assert s.max_apcer is None and s.worst_attack_type is None
    assert s.bpcer is None and s.acer is None
    assert s.blink_recall == 1.0
    assert summarize([]).blink_recall is None


def test_summary_as_dict_counts() -> None:
    d = summarize(RECORDS).as_dict()
    assert d["apcer"]["printed_photo"] == {"clips": 3, "passed": 0, "apcer": 0.0}
    assert d["counts"] == {"genuine": 4, "genuine_rejected": 2, "attack": 5, "attack_passed": 1,
                           "blink": 3, "blink_detected": 2}


def test_det_curves_sweep_the_score() -> None:
    curves = det_curves(RECORDS)
    assert set(curves) == {"printed_photo", "screen_replay", ALL_ATTACKS}
    apcer, bpcer = curves["screen_replay"]
    # Thresholds 0.5, 0.3, 0.2, -0.1, -0.3 and the floor; a clip without a score is never accepted.
    np.testing.assert_allclose(apcer, [0, 0, 0.5, 0.5, 1, 1, 1])
    np.testing.assert_allclose(bpcer, [1, 0.75, 0.75, 0.5, 0.5, 0.25, 0.25])
    apcer_all, bpcer_all = curves[ALL_ATTACKS]
    assert apcer_all[-1] == pytest.approx(4 / 5)  # the unreadable attack is refused even at the lowest threshold
    assert bpcer_all[-1] == pytest.approx(1 / 4)
    assert np.all(np.diff(apcer_all) >= 0) and np.all(np.diff(bpcer_all) <= 0)


def test_det_curves_need_genuine_clips() -> None:
    assert det_curves([rec("attack", False, -0.1, "x")]) == {}


def test_report_files(tmp_path: Path) -> None:
    report = Report(RECORDS, summarize(RECORDS), 1.0)
    write_report(report, tmp_path / "out")
    d = json.loads((tmp_path / "out" / "report.json").read_text())
    assert d["max_apcer"] == 0.5 and d["bpcer"] == 0.5
    assert len(d["clips"]) == len(RECORDS)
    assert d["clips"][3]["score"] is None and d["clips"][3]["reasons"] == ["challenge_empty"]
    assert (tmp_path / "out" / "det.png").stat().st_size > 0


# --- clips that cannot be evaluated ----------------------------------------------------------------------

def test_unreadable_clips_are_not_passed(clips: Path) -> None:
    (clips / "junk.mp4").write_bytes(b"not a video at all")
    rows = read_manifest(manifest(clips, "path,label,attack_type,challenge\n"
                                         "a.mp4,genuine,,turn_left\n"
                                         "junk.mp4,attack,screen_replay,turn_left\n"
                                         "c.mp4,blink,,\n"))
    report = evaluate(rows, fake_engine, workers=1)
    assert [r.passed for r in report.records] == [False, False, False]
    assert [r.reasons for r in report.records] == [("empty_video",), ("unsupported_video",), ("empty_video",)]
    assert all(r.score is None for r in report.records)
    assert report.summary.max_apcer == 0.0 and report.summary.bpcer == 1.0 and report.summary.blink_recall == 0.0


def test_cli_eval_writes_the_report(clips: Path) -> None:
    m = manifest(clips, "path,label,attack_type\na.mp4,genuine,\nb.mp4,attack,screen_replay\n")
    result = CliRunner().invoke(app, ["liveness", "eval", str(m), "--out", str(clips / "out"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "screen_replay" in result.output and "BPCER: 100.0%" in result.output
    assert json.loads((clips / "out" / "report.json").read_text())["counts"]["attack"] == 1
    assert (clips / "out" / "det.png").is_file()


def test_cli_eval_bad_manifest_exits_2(clips: Path) -> None:
    m = manifest(clips, "path,label\na.mp4,alive\n")
    result = CliRunner().invoke(app, ["liveness", "eval", str(m), "--out", str(clips / "out")])
    assert result.exit_code == 2
    assert not (clips / "out").exists()


# --- real clips ------------------------------------------------------------------------------------------

@pytest.mark.models
@pytest.mark.data
def test_real_clips(tmp_path: Path) -> None:
    genuine = need_data("liveness", "genuine", "person_a_turns_nods.mp4")
    replay = need_data("liveness", "attack", "person_a_screen_replay.mp4")
    blink = need_data("liveness", "blinks", "EyeBlink8_0", "calibration1_video0.mp4")
    other_blink = need_data("liveness", "blinks", "EyeBlink8_0", "calibration0_video0.mp4")

    def rel(p: Path) -> str:  # relative to the manifest, as a manifest kept beside the data would be
        return os.path.relpath(p, tmp_path)

    m = manifest(tmp_path, "path,label,attack_type,challenge\n"
                           f"{rel(genuine)},genuine,,{HEAD_MOVES}\n"
                           f"{rel(replay)},attack,screen_replay,{HEAD_MOVES}\n"
                           f"{rel(blink)},blink,,\n"
                           f"{rel(other_blink)},blink,,\n")
    report = evaluate(read_manifest(m), functools.partial(build_engine, "local"), workers=1)
    by_label = {r.label: r for r in report.records[:2]}
    assert by_label["genuine"].passed, by_label["genuine"].reasons
    assert by_label["genuine"].score is not None and by_label["genuine"].score >= 0
    assert not by_label["attack"].passed
    assert by_label["attack"].reasons
    assert report.records[2].passed  # the visible blink
    s = report.summary
    assert s.attacks == {"screen_replay": AttackRate(1, 0)}
    assert s.bpcer == 0.0 and s.max_apcer == 0.0
    assert s.blinks == 2 and s.blinks_detected >= 1
    write_report(report, tmp_path / "out")
    d = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {"apcer", "max_apcer", "bpcer", "acer", "blink_recall", "counts", "clips"} <= d.keys()
    assert [c["label"] for c in d["clips"]] == ["genuine", "attack", "blink", "blink"]
    assert all(math.isfinite(c["seconds"]) for c in d["clips"])
    assert (tmp_path / "out" / "det.png").stat().st_size > 0
