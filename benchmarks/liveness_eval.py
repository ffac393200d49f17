"""Liveness accuracy for the README: generated attacks (APCER per type), genuine windows and 20 capture
variations of the genuine clip (BPCER), the real replays and the other people's clips in
../shared/data/liveness, and blink recall.

    .venv/bin/python benchmarks/liveness_eval.py [--data ../shared/data] [--out bench-out/liveness]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

from realname.liveness.evaluation import MANIFEST_COLUMNS
from realname.liveness.variations import make_variations

HERE = Path(__file__).resolve().parent
HEAD_MOVES = ("turn_left", "turn_right", "look_up", "look_down")


def write_manifest(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(MANIFEST_COLUMNS)
        w.writerows(rows)
    return path


def genuine_windows(attacks_manifest: Path) -> list[tuple[str, str, str, str]]:
    """The wrong-order clips are genuine footage: with their head moves in the true order they are bona fide."""
    rows = []
    with attacks_manifest.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["attack_type"] == "wrong_order":
                moves = [a for a in r["challenge"].split(";") if a in HEAD_MOVES][::-1]
                rows.append((str((attacks_manifest.parent / r["path"]).resolve()), "genuine", "", ";".join(moves)))
    return rows


def shared_clips(data: Path) -> list[tuple[str, str, str, str]]:
    live = data / "liveness"
    rows = [(str(live / "genuine" / "person_a_turns_nods.mp4"), "genuine", "",
             "turn_left;turn_right;look_down;look_up;blink"),
            (str(live / "genuine" / "person_b_webcam.mp4"), "genuine", "", ""),
            (str(live / "attack" / "person_a_screen_replay.mp4"), "attack", "screen_replay", ""),
            (str(live / "attack" / "person_b_phone_replay.mp4"), "attack", "screen_replay", "")]
    with (live / "more" / "clips.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows.append((str(live / "more" / r["rel"]), r["label"], r["attack_type"], ""))
    rows += [(str(p), "blink", "", "") for p in sorted((live / "blinks").glob("*/*.mp4"))]
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE.parent / "bench-out" / "liveness")
    ap.add_argument("--per-type", type=int, default=100)
    args = ap.parse_args()
    if not (args.data / "liveness").is_dir():
        print(f"skipped: {args.data / 'liveness'} is absent")
        return 0
    cli = [sys.executable, "-m", "realname.cli.main", "liveness"]
    attacks = args.out / "attacks"
    steps = [
        [*cli, "make-attacks", "--photos", str(args.data / "lfw" / "lfw-deepfunneled"), "--genuine",
         str(args.data / "liveness" / "genuine" / "person_a_turns_nods.mp4"), "--out", str(attacks),
         "--per-type", str(args.per_type)],
        [*cli, "eval", str(attacks / "manifest.csv"), "--out", str(args.out / "attacks-eval")],
    ]
    for cmd in steps:
        print("$ " + " ".join(cmd), flush=True)
        if subprocess.run(cmd).returncode != 0:
            return 1
    windows = write_manifest(args.out / "genuine-windows.csv", genuine_windows(attacks / "manifest.csv"))
    person_a = args.data / "liveness" / "genuine" / "person_a_turns_nods.mp4"
    variations = make_variations([(person_a, "turn_left;turn_right;look_down;look_up;blink")],
                                 args.out / "variations", per_clip=20)
    shared = write_manifest(args.out / "shared-clips.csv", shared_clips(args.data))
    for manifest, name in ((windows, "genuine-windows-eval"), (variations, "variations-eval"),
                           (shared, "shared-clips-eval")):
        cmd = [*cli, "eval", str(manifest), "--out", str(args.out / name)]
        print("$ " + " ".join(cmd), flush=True)
        if subprocess.run(cmd).returncode != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
