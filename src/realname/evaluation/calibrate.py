"""Calibration: from genuine and impostor cosine scores to a thresholds file.

- Normalisation: each model's impostor mean and spread, so fused scores add like with like.
- Fusion weights: SFace-with-mirror 0.7, dlib 0.3 by default. On LFW View 1 any SFace weight from 0.45 to
  0.75 gives the same TAR at FMR 1e-3 within 0.2 points; we take the SFace-heavy end of that plateau because
  dlib's errors on East-Asian faces are several times its average (see the README's table), and most of our
  users are East Asian.
- Cascade bounds: plain SFace decides alone above its score at a tenth of the target FMR (fast accept) and
  below the score that only 0.2% of genuine pairs fall under (fast reject).
- Operating points per strategy: the threshold at the target FMR; the review band from the score at 10x the
  target FMR up to the score at a third of it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from realname import __version__
from realname.engine.models import MODEL_FILES
from realname.evaluation.metrics import threshold_for_fmr
from realname.verification.scoring import Array, combine
from realname.verification.thresholds import (
    CascadeBounds,
    Normalisation,
    OperatingPoint,
    Provenance,
    StrategyName,
    Thresholds,
)

STRATEGIES: tuple[StrategyName, ...] = ("sface", "dlib", "fusion", "cascade")
DEFAULT_SFACE_WEIGHT = 0.7
FAST_REJECT_GENUINE_QUANTILE = 0.002


def operating_point(genuine: Array, impostor: Array, target_fmr: float) -> OperatingPoint:
    t = threshold_for_fmr(impostor, target_fmr)
    low = min(threshold_for_fmr(impostor, target_fmr * 10), t)
    high = max(threshold_for_fmr(impostor, target_fmr / 3), t)
    return OperatingPoint(
        threshold=t, review_low=low, review_high=high,
        measured_fmr=float(np.mean(impostor >= t)), measured_fnmr=float(np.mean(genuine < t)),
    )


def calibrate(
    genuine: dict[str, Array],
    impostor: dict[str, Array],
    *,
    target_fmr: float,
    dataset: str,
    sface_weight: float = DEFAULT_SFACE_WEIGHT,
    notes: str = "",
) -> Thresholds:
    """``genuine``/``impostor``: cosine per model ("sface", "sface_tta", "dlib") for each pair."""
    if not 0.0 <= sface_weight <= 1.0:
        raise ValueError("sface_weight must be between 0 and 1")
    n_imp = len(impostor["sface"])
    norm = {}
    for model in ("sface", "sface_tta", "dlib"):
        finite = impostor[model][np.isfinite(impostor[model])]
        norm[model] = Normalisation(mean=float(finite.mean()), std=float(max(finite.std(), 1e-6)))
    fast_accept = threshold_for_fmr(impostor["sface"], target_fmr / 10)
    finite_gen = genuine["sface"][np.isfinite(genuine["sface"])]
    fast_reject = min(float(np.quantile(finite_gen, FAST_REJECT_GENUINE_QUANTILE)), fast_accept - 1e-6)
    resolvable = 1.0 / max(n_imp, 1)
    if target_fmr < resolvable:
        notes = (notes + " " if notes else "") + (
            f"Only {n_imp} impostor pairs: FMR below {resolvable:.1e} cannot be measured, so the threshold is "
            "set above every impostor score.")
    draft = Thresholds(
        provenance=Provenance(
            dataset=dataset, genuine_pairs=len(genuine["sface"]), impostor_pairs=n_imp, target_fmr=target_fmr,
            created=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            tool=f"realname {__version__} calibrate",
            models={k: m.sha256 for k, m in MODEL_FILES.items() if k in ("yunet", "sface", "dlib_resnet",
                                                                         "dlib_shape5")},
            notes=notes,
        ),
        normalisation=norm,
        fusion_weights={"sface_tta": sface_weight, "dlib": round(1.0 - sface_weight, 6)},
        cascade=CascadeBounds(fast_reject=fast_reject, fast_accept=fast_accept),
        strategies={s: OperatingPoint(threshold=0, review_low=0, review_high=0, measured_fmr=0,
                                      measured_fnmr=0) for s in STRATEGIES},
    )
    points = {
        s: operating_point(combine(draft, s, genuine), combine(draft, s, impostor), target_fmr)
        for s in STRATEGIES
    }
    return draft.model_copy(update={"strategies": points})
