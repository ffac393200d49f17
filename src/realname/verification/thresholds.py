"""The thresholds file: calibrated operating points with the provenance that makes them trustworthy.

A decision is only as good as the threshold behind it, so the file records how it was made: the models'
sha256, the data set and pairs, the target false-match rate, what was measured there, and when. The default
file ships inside the package (``verification/thresholds/default.json``); ``realname calibrate`` writes a new
one from an operator's own pairs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from realname.errors import ConfigError

StrategyName = Literal["sface", "dlib", "fusion", "cascade"]


class Normalisation(BaseModel):
    """Impostor-score statistics that put every model's cosine on one scale (z-score)."""

    mean: float
    std: float = Field(gt=0)


class OperatingPoint(BaseModel):
    """Scores >= ``threshold`` match; scores in [review_low, review_high) go to a person; below, no match.

    The review band straddles the threshold: ``review_low`` is the score at 10x the target false-match
    rate, ``review_high`` the score at a third of it, so clear cases never wait for a supervisor and
    borderline ones never pass or fail unseen.
    """

    threshold: float
    review_low: float
    review_high: float
    measured_fmr: float
    measured_fnmr: float

    @model_validator(mode="after")
    def _ordered(self) -> OperatingPoint:
        if not self.review_low <= self.threshold <= self.review_high:
            raise ValueError("need review_low <= threshold <= review_high")
        return self


class CascadeBounds(BaseModel):
    """SFace cosine scores outside (fast_reject, fast_accept) are decided by SFace alone."""

    fast_reject: float
    fast_accept: float


class Provenance(BaseModel):
    dataset: str
    genuine_pairs: int
    impostor_pairs: int
    target_fmr: float
    created: str
    tool: str
    models: dict[str, str]  # model key -> sha256 of the file that produced the scores
    notes: str = ""


@dataclass(frozen=True)
class Cutoff:
    """One score read from a thresholds file, with where it came from: a recalibration moves it, and a record
    that uses it can say which calibration it was."""

    value: float
    strategy: StrategyName
    fmr: float  # the impostor false-match rate at which the calibration measured ``value``
    dataset: str
    created: str
    model_sha256: str  # of the strategy's model file, as the provenance names it ("" when it does not)

    def describe(self) -> str:
        model = f"{self.strategy} {self.model_sha256[:12]}".rstrip()
        return f"{model} score at FMR {self.fmr:g} (calibrated {self.created} on {self.dataset})"


class Thresholds(BaseModel):
    schema_version: Literal[1] = 1
    provenance: Provenance
    normalisation: dict[str, Normalisation]
    fusion_weights: dict[str, float]
    cascade: CascadeBounds
    strategies: dict[StrategyName, OperatingPoint]

    def point(self, strategy: StrategyName) -> OperatingPoint:
        try:
            return self.strategies[strategy]
        except KeyError:
            raise ConfigError(f"the thresholds file has no operating point for engine {strategy!r}") from None

    def review_floor(self, strategy: StrategyName) -> Cutoff:
        """The bottom of ``strategy``'s review band as a cutoff: the score at 10x the target false-match rate
        (see :class:`OperatingPoint`; never above the threshold)."""
        p = self.provenance
        return Cutoff(self.point(strategy).review_low, strategy, 10 * p.target_fmr, p.dataset, p.created,
                      p.models.get(strategy, ""))


def load_thresholds(path: Path | None = None) -> Thresholds:
    """Read a thresholds file (default: the one shipped in the package); a bad file is a ConfigError."""
    try:
        if path is None:
            text = (resources.files("realname.verification") / "thresholds" / "default.json").read_text()
            where = "the packaged default thresholds"
        else:
            text = Path(path).read_text(encoding="utf-8")
            where = str(path)
    except OSError as exc:
        raise ConfigError(f"cannot read thresholds file {path}: {exc.strerror}") from None
    try:
        return Thresholds.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ConfigError(f"{where} is not a valid thresholds file: {exc}") from None


def save_thresholds(thresholds: Thresholds, path: Path) -> None:
    path.write_text(json.dumps(thresholds.model_dump(), indent=2) + "\n", encoding="utf-8")
