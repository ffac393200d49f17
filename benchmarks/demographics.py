"""East-Asian subgroup by sex: FMR and FNMR per group at the packaged thresholds, and the differential.

The demographic check of issue 14, on the 34 East-Asian identities of ../shared/data/lfw
(``east_asian_identities.txt``), with each identity's sex from ``benchmarks/east_asian_sex.tsv`` (by public
record, unverified). For plain images and for ID-chip portraits (the second image of every pair made a
102x126 JPEG-q40 chip portrait, :func:`realname.evaluation.degrade.idchip`):

- Genuine pairs: the same ones ``realname bench pairs lfw --identities east_asian_identities.txt`` scores
  (at most 20 per identity, seeded), grouped by the person's sex.
- Impostor pairs: every cross-identity pair of the subgroup's images (the first image in path order on the
  left, as ``realname calibrate`` does with all impostors), not only the 381 listed ones, so the male group has
  tens of thousands. Grouped female-female, male-male and mixed. As NIST FRVT does, the FMR differential
  compares the same-sex groups (female-female against male-male); mixed pairs are reported beside it.
- Rates at the threshold of each strategy's packaged operating point (review band not applied), 95% Wilson
  intervals, and the worst/best ratio (:mod:`realname.evaluation.groups`). The pair and people counts behind
  every figure are in the report: the female group is 6 people, and its intervals say so.

Writes report.json and table.md under --out. Usage::

    .venv/bin/python benchmarks/demographics.py --data ../shared/data --out bench-out/east-asian-by-sex
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from realname.engine import build_engine
from realname.errors import DataSourceError
from realname.evaluation.bench import pair_cosines
from realname.evaluation.extract import Extracted, extract_all
from realname.evaluation.groups import CONFIDENCE, STRATEGIES, group_report, rate_cell, rates_by_group
from realname.evaluation.pairs import PairSet, identity_folders, load_source, read_identities
from realname.verification.scoring import combine
from realname.verification.thresholds import Thresholds, load_thresholds

HERE = Path(__file__).resolve().parent
SEX_FILE = HERE / "east_asian_sex.tsv"
MODELS = ("sface", "sface_tta", "dlib")
SAME_SEX = ["female", "male"]
Cosines = dict[str, npt.NDArray[np.float64]]


def read_sex(path: Path, names: list[str]) -> dict[str, str]:
    rows = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")]
    sex = {r[0].strip(): r[1].strip() for r in rows if len(r) == 2}
    bad = [n for n in names if sex.get(n) not in SAME_SEX]
    if bad:
        raise DataSourceError(f"{path}: no female/male label for {', '.join(bad)}")
    return sex


def unit_vectors(images: list[Path], extracted: dict[tuple[Path, bool], Extracted], degrade: bool,
                 model: str) -> npt.NDArray[np.float64]:
    """One row per image, unit length; zeros where no face was found (those pairs are masked to -inf)."""
    dim = next(len(e.templates[model].vector) for e in extracted.values() if e.acquired)
    rows = [extracted[(p, degrade)].templates[model].vector if extracted[(p, degrade)].acquired
            else np.zeros(dim) for p in images]
    v = np.stack(rows).astype(np.float64)
    unit: npt.NDArray[np.float64] = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return unit


def impostor_cosines(images: list[Path], extracted: dict[tuple[Path, bool], Extracted],
                     degrade: bool) -> tuple[Cosines, list[tuple[str, str]]]:
    """Cosines of every cross-identity pair (i < j; j degraded with ``degrade``) and the pair's identities;
    a face not found scores -inf (a correct rejection)."""
    ident = np.array([p.parent.name for p in images])
    iu = np.triu_indices(len(images), 1)
    cross = (ident[:, None] != ident[None, :])[iu]
    left_ok = np.array([extracted[(p, False)].acquired for p in images])
    right_ok = np.array([extracted[(p, degrade)].acquired for p in images])
    ok = (left_ok[:, None] & right_ok[None, :])[iu][cross]
    cos: Cosines = {}
    for m in MODELS:
        left, right = unit_vectors(images, extracted, False, m), unit_vectors(images, extracted, degrade, m)
        cos[m] = np.where(ok, (left @ right.T)[iu][cross], -np.inf)
    who = [(str(a), str(b)) for a, b in zip(ident[iu[0]][cross], ident[iu[1]][cross], strict=True)]
    return cos, who


def who_erred(accept: npt.NDArray[np.bool_], same: npt.NDArray[np.bool_], labels: list[str],
              pair_people: list[tuple[str, ...]]) -> dict[str, Any]:
    """Whose pairs the errors come from: many pairs of the same few people are not independent trials, so
    the intervals (which assume they are) are read with how many people the errors involve."""
    out: dict[str, Any] = {}
    for g in sorted(set(labels)):
        fm = Counter(pp for a, y, lab, pp in zip(accept, same, labels, pair_people, strict=True)
                     if lab == g and a and not y)
        fnm = Counter(pp[0] for a, y, lab, pp in zip(accept, same, labels, pair_people, strict=True)
                      if lab == g and not a and y)
        out[g] = {
            "false_match_identity_pairs": len(fm),
            "identity_pairs": len({pp for y, lab, pp in zip(same, labels, pair_people, strict=True)
                                   if lab == g and not y}),
            "top_false_match_identity_pairs": [[" / ".join(k), n] for k, n in fm.most_common(5)],
            "false_non_match_people": dict(fnm.most_common()),
        }
    return out


def condition(pairs: PairSet, images: list[Path], extracted: dict[tuple[Path, bool], Extracted],
              th: Thresholds, sex: dict[str, str], degrade: bool) -> dict[str, Any]:
    genuine = [p for p in pairs.pairs if p.same]
    gen = PairSet(pairs.name, genuine, pairs.protocol)
    gen_cos = pair_cosines(gen, extracted, degrade).cos
    imp_cos, who = impostor_cosines(images, extracted, degrade)
    cos = {m: np.concatenate([gen_cos[m], imp_cos[m]]) for m in MODELS}
    same = np.r_[np.ones(len(genuine), bool), np.zeros(len(who), bool)]
    labels = [sex[p.left.parent.name] for p in genuine] + [
        sex[a] if sex[a] == sex[b] else "mixed" for a, b in who]
    # The people behind each figure: whose genuine pairs, and who appears in the group's impostor pairs.
    people: dict[str, dict[str, int]] = {}
    for g in [*SAME_SEX, "mixed"]:
        people[g] = {
            "genuine": len({p.left.parent.name for p, lab in zip(genuine, labels[:len(genuine)], strict=True)
                            if lab == g}),
            "impostor": len({x for (a, b), lab in zip(who, labels[len(genuine):], strict=True) if lab == g
                             for x in (a, b)}),
        }
    pair_people: list[tuple[str, ...]] = [(p.left.parent.name,) for p in genuine] + [(a, b) for a, b in who]
    strategies = {}
    for s in STRATEGIES:
        t = th.point(s).threshold
        scores = combine(th, s, cos)
        strategies[s] = group_report(rates_by_group(scores, same, labels, t), t, compare_fmr=SAME_SEX)
        strategies[s]["errors_by_people"] = who_erred(scores >= t, same, labels, pair_people)
        # What the shipped rule does with them: scores in the review band go to a supervisor; only those
        # above it pass outright.
        high = th.point(s).review_high
        strategies[s]["impostors_past_review_band"] = {
            g: int(np.sum((scores >= high) & ~same & (np.asarray(labels) == g))) for g in sorted(set(labels))}
    return {
        "degrade": "idchip" if degrade else None,
        "pairs": {"genuine": int(same.sum()), "impostor": int((~same).sum())},
        "failures_to_acquire": {  # images without a face found: on the left (plain), on the right
            "left": sum(not extracted[(p, False)].acquired for p in images),
            "right": sum(not extracted[(p, degrade)].acquired for p in images),
        },
        "people": people,
        "strategies": strategies,
    }


def markdown(report: dict[str, Any], strategy: str = "cascade") -> str:
    lines = ["| images | group | people (genuine / impostor) | FMR [95% CI] (false matches / impostor pairs) "
             "| FNMR [95% CI] (false non-matches / genuine pairs) |", "|---|---|---|---|---|"]
    notes = []
    for c in report["conditions"].values():
        r = c["strategies"][strategy]
        label = "ID-chip portraits" if c["degrade"] else "plain"
        for g, v in r["groups"].items():
            shown = {"female": "female (F-F impostors)", "male": "male (M-M impostors)",
                     "mixed": "mixed (F-M impostors)"}.get(g, g)
            pp = c["people"][g]
            lines.append(f"| {label} | {shown} | {pp['genuine'] or '-'} / {pp['impostor']} | "
                         f"{rate_cell(v['fmr'])} | {rate_cell(v['fnmr'])} |")
        for kind in ("fmr", "fnmr"):
            d = r["differential"][kind]
            notes.append(f"- {label}, {kind.upper()} worst/best (female vs male): "
                         f"{d['text'] if d else 'n/a (fewer than two groups with pairs)'}")
        for g, e in r["errors_by_people"].items():
            if e["false_match_identity_pairs"]:
                top = ", ".join(f"{k} ({n})" for k, n in e["top_false_match_identity_pairs"][:3])
                notes.append(f"- {label}, {g}: the false matches come from {e['false_match_identity_pairs']} of "
                             f"{e['identity_pairs']} pairs of people (most: {top}); above the review band, "
                             f"so passed without a supervisor: {r['impostors_past_review_band'][g]}")
            if e["false_non_match_people"]:
                who = ", ".join(f"{k} ({n})" for k, n in e["false_non_match_people"].items())
                notes.append(f"- {label}, {g}: the false non-matches are {who}")
    return "\n".join([*lines, "", *notes]) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=HERE.parent / "bench-out" / "east-asian-by-sex")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    args = ap.parse_args(argv)
    lfw = args.data / "lfw"
    id_file = lfw / "east_asian_identities.txt"
    try:
        names = read_identities(id_file)
        sex = read_sex(SEX_FILE, names)
        pairs = load_source(lfw, id_file)  # the genuine pairs `realname bench pairs --identities` scores
        people = identity_folders(lfw / "lfw-deepfunneled", names)
    except DataSourceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    images = sorted(p for files in people.values() for p in files)
    jobs = {(p, d) for p in images for d in (False, True)}
    print(f"templates for {len(jobs)} images ({len(images)} plain + ID-chip)...", file=sys.stderr, flush=True)
    extracted = extract_all(functools.partial(build_engine, "local"), jobs, args.workers)
    th = load_thresholds(None)
    report = {
        "source": f"LFW, the {len(people)} identities of {id_file.name}; sex from {SEX_FILE.name}",
        "thresholds": th.provenance.model_dump(),
        "confidence": CONFIDENCE,
        "interval": "Wilson score",
        "identities": {g: sorted(n for n in people if sex[n] == g) for g in SAME_SEX},
        "images": {g: sum(len(people[n]) for n in people if sex[n] == g) for g in SAME_SEX},
        "convention": "genuine pairs grouped by the person's sex; impostor pairs female-female (in 'female'), "
                      "male-male (in 'male') or mixed; FMR differential over the same-sex groups only (NIST "
                      "FRVT); rates at the packaged threshold of each strategy, review band not applied",
        "conditions": {"plain": condition(pairs, images, extracted, th, sex, False),
                       "idchip": condition(pairs, images, extracted, th, sex, True)},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (args.out / "table.md").write_text(table)
    print(table)
    print(f"wrote {args.out / 'report.json'}, {args.out / 'table.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
