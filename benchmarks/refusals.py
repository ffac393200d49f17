"""How often the compare refuses a picture for quality (a face cut off by the border), per pair set.

The compare answers a retake, never a decision, for a refused picture; `realname bench pairs` counts those pairs
apart and gives every figure again without them. This script answers the first half alone, fast (one face
detection and the quality findings per image, no templates), for the sets `make bench` measures: which images
are refused, by which finding, and how many pairs hold one.

Usage::

    .venv/bin/python benchmarks/refusals.py [--data ../shared/data] [--out bench-out/refusals]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import cv2


def refused(engine, path: Path, degrade: bool) -> str | None:  # type: ignore[no-untyped-def]
    from realname.engine.quality import REFUSING, assess
    from realname.engine.selection import primary_face
    from realname.evaluation.degrade import idchip
    from realname.images import read_image

    image = read_image(path)
    if degrade:
        image = idchip(image, engine)
    faces = engine.detect(image)
    face = primary_face(faces, image.shape[1], image.shape[0])
    if face is None:
        return None  # a failure to acquire, counted by `bench pairs`, not a refusal
    finding = assess(image, faces, face, engine.limits).refusal(REFUSING)
    return finding.code if finding is not None else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=Path("bench-out/refusals"))
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    from realname.engine.local import LocalEngine
    from realname.evaluation.pairs import load_source

    lfw, orl = args.data / "lfw", args.data / "orl" / "att_faces"
    sets = {
        "LFW View 2": (lfw, None, False),
        "LFW View 2, ID-chip portraits": (lfw, None, True),
        "East-Asian subgroup": (lfw, lfw / "east_asian_identities.txt", False),
        "East-Asian subgroup, ID-chip": (lfw, lfw / "east_asian_identities.txt", True),
        "ORL (AT&T)": (orl, None, False),
    }
    engine = LocalEngine()
    report: dict[str, dict[str, object]] = {}
    for name, (root, identities, degrade) in sets.items():
        if not root.exists():
            print(f"skip {name}: no data at {root}")
            continue
        pairs = load_source(root, identities).pairs
        # The second image of a pair is the one the ID-chip degradation applies to, as in `bench pairs`.
        jobs = sorted({(p.left, False) for p in pairs} | {(p.right, degrade) for p in pairs})
        found = {job: refused(engine, *job) for job in jobs}
        hit = [p for p in pairs if found[(p.left, False)] or found[(p.right, degrade)]]
        report[name] = {
            "pairs": len(pairs), "images": len(jobs),
            "refused_images": sum(v is not None for v in found.values()),
            "refused_pairs": len(hit), "refused_genuine": sum(p.same for p in hit),
            "by_finding": dict(Counter(v for v in found.values() if v)),
            "refused": sorted(str(path.relative_to(root)) + (" (ID-chip)" if deg else "")
                              for (path, deg), v in found.items() if v),
        }
        r = report[name]
        print(f"{name}: {r['refused_pairs']} of {r['pairs']} pairs refused ({r['refused_images']} of "
              f"{r['images']} images: {r['by_finding'] or 'none'})", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "refusals.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out / 'refusals.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
