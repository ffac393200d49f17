"""Error rates per group of pairs (sex, age band, region...) at one threshold, and the demographic differential.

- An error at the threshold: an impostor pair scoring at or above it (a false match), a genuine pair scoring
  below it (a false non-match; a face not found scores ``-inf``, so it is one). The review band is left out:
  these are the rates of the threshold itself, the figure the calibration targets.
- Each rate carries a 95% Wilson score interval from its pair counts. Wilson rather than the normal
  approximation because error counts are small: with 0 errors in n pairs the upper bound is z²/(n + z²)
  (about 3.8/n, close to the "rule of three"), so a group with few pairs shows how little it proves.
- The differential is NIST FRVT's: the highest group rate over the lowest. When the lowest is 0 the ratio is
  infinite (or undefined when every group is 0), so the report also gives the bounds the two groups'
  intervals allow: at least worst.low / best.high, at most worst.high / best.low.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from realname.evaluation.bench import pair_cosines
from realname.evaluation.extract import Extracted
from realname.evaluation.pairs import PairSet
from realname.verification.scoring import combine
from realname.verification.thresholds import StrategyName, Thresholds

CONFIDENCE = 0.95
STRATEGIES: tuple[StrategyName, ...] = ("cascade", "fusion", "sface", "dlib")
CONVENTION = ("at the threshold: an impostor pair scoring at or above it is a false match, a genuine pair below "
              "it (or without a face found) a false non-match; the review band is not applied. "
              "Differential = highest group rate / lowest (NIST FRVT), among groups with pairs of that kind.")


def wilson(errors: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for ``errors`` out of ``trials``; (0, 1) when there are no trials."""
    if not 0 <= errors <= trials:
        raise ValueError(f"errors={errors} must be between 0 and trials={trials}")
    if trials == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p, n, z2 = errors / trials, trials, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # The exact interval holds p; clamping keeps rounding from pushing a bound past it (or past 0 and 1).
    low = 0.0 if errors == 0 else min(max(centre - half, 0.0), p)
    high = 1.0 if errors == trials else max(min(centre + half, 1.0), p)
    return low, high


@dataclass(frozen=True)
class Rate:
    errors: int
    trials: int

    @property
    def value(self) -> float | None:
        return self.errors / self.trials if self.trials else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.errors, self.trials)

    def as_json(self) -> dict[str, Any]:
        low, high = self.interval
        return {"errors": self.errors, "pairs": self.trials, "rate": self.value,
                "ci95": [low, high] if self.trials else None}


@dataclass(frozen=True)
class GroupRates:
    fmr: Rate  # false matches among the group's impostor pairs
    fnmr: Rate  # false non-matches among the group's genuine pairs


def rates_by_group(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_], groups: Sequence[str],
                   threshold: float) -> dict[str, GroupRates]:
    """FMR and FNMR of each group at ``threshold``, groups in sorted order."""
    if not len(scores) == len(same) == len(groups):
        raise ValueError("scores, labels and groups must have one entry per pair")
    labels = np.asarray(groups, dtype=object)
    accept = scores >= threshold
    out = {}
    for g in sorted(set(groups)):
        mine = labels == g
        gen, imp = mine & same, mine & ~same
        out[g] = GroupRates(fmr=Rate(int(np.sum(accept[imp])), int(np.sum(imp))),
                            fnmr=Rate(int(np.sum(~accept[gen])), int(np.sum(gen))))
    return out


@dataclass(frozen=True)
class Differential:
    """Worst group's rate over the best group's, among the groups that have pairs of this kind."""

    worst: str
    best: str
    ratio: float | None  # None when both rates are 0 (undefined); inf when only the best is 0
    at_least: float  # worst.low / best.high: the smallest ratio the two 95% intervals allow
    at_most: float | None  # worst.high / best.low; None (unbounded) when best.low is 0

    def describe(self) -> str:
        if self.ratio is None:
            return "n/a (no errors in any group)"
        ratio = "inf (best group has 0 errors)" if math.isinf(self.ratio) else f"{self.ratio:.2f}"
        bound = f"{self.at_most:.2f}" if self.at_most is not None else "unbounded"
        return f"{ratio}, {self.worst} / {self.best}; 95% intervals allow {self.at_least:.2f} to {bound}"

    def as_json(self) -> dict[str, Any]:
        # JSON has no infinity: an infinite ratio is null with "infinite": true.
        infinite = self.ratio is not None and math.isinf(self.ratio)
        return {"worst": self.worst, "best": self.best, "ratio": None if infinite else self.ratio,
                "infinite": infinite, "at_least": self.at_least, "at_most": self.at_most,
                "text": self.describe()}


def differential(rates: Mapping[str, Rate]) -> Differential | None:
    """The max/min ratio over the groups with at least one pair; None with fewer than two such groups."""
    measured = {g: r for g, r in rates.items() if r.trials}
    if len(measured) < 2:
        return None
    order = sorted(measured, key=lambda g: (measured[g].errors / measured[g].trials, g))
    best, worst = measured[order[0]], measured[order[-1]]
    w, b = worst.errors / worst.trials, best.errors / best.trials
    ratio = None if w == 0 else (math.inf if b == 0 else w / b)
    (w_low, w_high), (b_low, b_high) = worst.interval, best.interval
    return Differential(worst=order[-1], best=order[0], ratio=ratio, at_least=w_low / b_high,
                        at_most=w_high / b_low if b_low > 0 else None)


def group_report(rates: Mapping[str, GroupRates], threshold: float,
                 compare_fmr: Sequence[str] | None = None) -> dict[str, Any]:
    """JSON for one strategy: each group's rates with intervals, and the FMR and FNMR differentials.

    ``compare_fmr`` limits the FMR differential to these groups (NIST compares same-group impostor pairs, so
    a "mixed" impostor group is reported but left out of the ratio); default: every group.
    """
    fmr_groups = compare_fmr if compare_fmr is not None else list(rates)
    d_fmr = differential({g: rates[g].fmr for g in fmr_groups if g in rates})
    d_fnmr = differential({g: r.fnmr for g, r in rates.items()})
    return {
        "threshold": threshold,
        "groups": {g: {"fmr": r.fmr.as_json(), "fnmr": r.fnmr.as_json()} for g, r in rates.items()},
        "differential": {"fmr": d_fmr.as_json() if d_fmr else None,
                         "fnmr": d_fnmr.as_json() if d_fnmr else None,
                         "fmr_groups": list(fmr_groups)},
    }


def write_group_report(pairs: PairSet, extracted: dict[tuple[Path, bool], Extracted], th: Thresholds,
                       degrade: bool, path: Path) -> dict[str, Any]:
    """Per-group rates of every strategy at ``th``'s thresholds on a grouped pair set, written to ``path``."""
    pc = pair_cosines(pairs, extracted, degrade)
    labels = [p.group or "" for p in pairs.pairs]
    report: dict[str, Any] = {
        "source": pairs.name,
        "degrade": "idchip" if degrade else None,
        "thresholds": th.provenance.model_dump(),
        "confidence": CONFIDENCE,
        "interval": "Wilson score",
        "convention": CONVENTION,
        "strategies": {},
    }
    for s in STRATEGIES:
        t = th.point(s).threshold
        report["strategies"][s] = group_report(rates_by_group(combine(th, s, pc.cos), pc.same, labels, t), t)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def percent(rate: float | None) -> str:
    """A rate for a table: three significant figures, so an FMR of 3e-5 is not printed as 0.00%."""
    if rate is None:
        return "-"
    return "0" if rate == 0 else f"{rate * 100:.3g}%"


def rate_cell(r: Mapping[str, Any]) -> str:
    """``{"rate", "ci95", "errors", "pairs"}`` as "0.3% [0.1%, 0.9%] (3/1000)"."""
    if not r["pairs"]:
        return "-"
    low, high = r["ci95"]
    return f"{percent(r['rate'])} [{percent(low)}, {percent(high)}] ({r['errors']}/{r['pairs']})"
