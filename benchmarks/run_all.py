"""`make bench`: every accuracy and speed figure in the README, from one command.

Accuracy (LFW View 2, LFW View 2 with ID-chip portraits, the East-Asian subgroup, ORL) comes from
`realname bench pairs`; the East-Asian subgroup by sex from benchmarks/demographics.py; how often the compare
refuses a picture for quality from benchmarks/refusals.py; the side-by-side
comparison with face_recognition and verifyface from benchmarks/peers.py. Each writes report.json and plots
under --out. Skips what the data folder lacks.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE.parent / "bench-out")
    ap.add_argument("--only", nargs="*", help="run only these: lfw, lfw-idchip, east-asian, east-asian-idchip, "
                    "east-asian-by-sex, refusals, orl, peers, liveness-speed, liveness, blinks, supervision")
    args = ap.parse_args()
    lfw, orl = args.data / "lfw", args.data / "orl" / "att_faces"
    realname = [sys.executable, "-m", "realname.cli.main"]
    runs = {
        "lfw": [*realname, "bench", "pairs", str(lfw)],
        "lfw-idchip": [*realname, "bench", "pairs", str(lfw), "--degrade", "idchip"],
        "east-asian": [*realname, "bench", "pairs", str(lfw), "--identities",
                       str(lfw / "east_asian_identities.txt")],
        "east-asian-idchip": [*realname, "bench", "pairs", str(lfw), "--identities",
                              str(lfw / "east_asian_identities.txt"), "--degrade", "idchip"],
        "east-asian-by-sex": [sys.executable, str(HERE / "demographics.py"), "--data", str(args.data)],
        "refusals": [sys.executable, str(HERE / "refusals.py"), "--data", str(args.data)],
        "orl": [*realname, "bench", "pairs", str(orl)],
        "peers": [sys.executable, str(HERE / "peers.py"), "--data", str(args.data)],
        "liveness-speed": [sys.executable, str(HERE / "liveness_speed.py"), "--data", str(args.data)],
        "liveness": [sys.executable, str(HERE / "liveness_eval.py"), "--data", str(args.data)],
        "blinks": [sys.executable, str(HERE / "blink_eval.py"), "--data", str(args.data)],
        "supervision": [sys.executable, str(HERE / "supervision_bench.py")],
    }
    failed = []
    for name, cmd in runs.items():
        if args.only and name not in args.only:
            continue
        needs = {"orl": orl, "refusals": None, "peers": None, "liveness-speed": None, "liveness": None, "blinks": None,
                 "supervision": None}
        folder = needs.get(name, lfw)
        if folder is not None and not folder.exists():
            print(f"skip {name}: {args.data} has no data for it", flush=True)
            continue
        cmd = [*cmd, "--out", str(args.out / name)]
        print(f"\n$ {' '.join(cmd)}", flush=True)
        if subprocess.run(cmd).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
