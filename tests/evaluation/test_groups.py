"""Per-group error rates: Wilson intervals, counts per group at a threshold, and the worst/best differential."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realname.evaluation.groups import (
    GroupRates,
    Rate,
    differential,
    group_report,
    percent,
    rate_cell,
    rates_by_group,
    wilson,
)

Z = NormalDist().inv_cdf(0.975)


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(1, 10**7))
    return draw(st.integers(0, n)), n


@given(counts())
def test_interval_holds_the_estimate_within_0_and_1(c: tuple[int, int]) -> None:
    k, n = c
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert low < high


@given(counts(), st.integers(2, 1000))
def test_interval_narrows_with_more_pairs_at_the_same_rate(c: tuple[int, int], m: int) -> None:
    k, n = c
    low, high = wilson(k, n)
    low_m, high_m = wilson(k * m, n * m)
    assert high_m - low_m < high - low


@given(st.integers(1, 10**7))
def test_zero_errors_still_bound_the_rate_from_above(n: int) -> None:
    low, high = wilson(0, n)
    assert low == 0.0
    assert high == pytest.approx(Z * Z / (n + Z * Z))  # Wilson's closed form at k = 0
    if n >= 40:  # about the rule of three (3/n) once n is not tiny
        assert 0.9 * 3 / n < high < 1.4 * 3 / n


def test_known_values() -> None:
    # 10 of 100: the textbook Wilson interval [5.52%, 17.44%].
    low, high = wilson(10, 100)
    assert low == pytest.approx(0.0552, abs=5e-5) and high == pytest.approx(0.1744, abs=5e-5)
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_rates_by_group_match_a_direct_count() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    same = rng.random(n) < 0.3
    scores = np.where(same, rng.normal(0.7, 0.15, n), rng.normal(0.1, 0.15, n))
    scores[rng.choice(n, 20, replace=False)] = -np.inf  # faces not found
    groups = rng.choice(["18-30", "31-50", "51+"], n).tolist()
    t = 0.4
    rates = rates_by_group(scores, same, groups, t)
    assert list(rates) == ["18-30", "31-50", "51+"]
    for g, r in rates.items():
        imp = [s for s, y, gg in zip(scores, same, groups, strict=True) if gg == g and not y]
        gen = [s for s, y, gg in zip(scores, same, groups, strict=True) if gg == g and y]
        assert r.fmr == Rate(sum(s >= t for s in imp), len(imp))
        assert r.fnmr == Rate(sum(s < t for s in gen), len(gen))  # -inf counts as a false non-match
    assert sum(r.fmr.trials + r.fnmr.trials for r in rates.values()) == n
    with pytest.raises(ValueError):
        rates_by_group(scores, same, groups[:-1], t)


def test_differential_is_worst_over_best_with_interval_bounds() -> None:
    d = differential({"F": Rate(12, 1000), "M": Rate(3, 1000), "X": Rate(6, 1000)})
    assert d is not None
    assert (d.worst, d.best, d.ratio) == ("F", "M", pytest.approx(4.0))
    (fl, fh), (ml, mh) = wilson(12, 1000), wilson(3, 1000)
    assert d.at_least == pytest.approx(fl / mh) and d.at_most == pytest.approx(fh / ml)
    assert d.at_least < 4.0 < d.at_most
    assert d.describe().startswith("4.00, F / M")


def test_differential_when_the_best_group_has_no_errors() -> None:
    d = differential({"F": Rate(5, 400), "M": Rate(0, 30000), "none": Rate(0, 0)})
    assert d is not None and d.ratio == math.inf and (d.worst, d.best) == ("F", "M")
    assert d.at_most is None  # the best group's lower bound is 0: no upper bound on the ratio
    assert d.at_least == pytest.approx(wilson(5, 400)[0] / wilson(0, 30000)[1])
    j = d.as_json()
    assert j["ratio"] is None and j["infinite"] is True and "inf" in j["text"]


def test_differential_without_errors_or_groups() -> None:
    d = differential({"F": Rate(0, 300), "M": Rate(0, 3000)})
    assert d is not None and d.ratio is None and d.describe().startswith("n/a")
    assert d.as_json()["infinite"] is False
    assert differential({"F": Rate(2, 300), "M": Rate(0, 0)}) is None


def test_group_report_leaves_mixed_impostors_out_of_the_fmr_ratio() -> None:
    rates = {
        "female": GroupRates(fmr=Rate(2, 351), fnmr=Rate(1, 43)),
        "male": GroupRates(fmr=Rate(3, 33000), fnmr=Rate(2, 338)),
        "mixed": GroupRates(fmr=Rate(0, 8000), fnmr=Rate(0, 0)),
    }
    everyone = group_report(rates, 1.5)
    assert everyone["differential"]["fmr"]["best"] == "mixed" and everyone["differential"]["fmr"]["infinite"]
    same_sex = group_report(rates, 1.5, compare_fmr=["female", "male"])
    fmr = same_sex["differential"]["fmr"]
    assert (fmr["worst"], fmr["best"]) == ("female", "male")
    assert fmr["ratio"] == pytest.approx((2 / 351) / (3 / 33000))
    fnmr = same_sex["differential"]["fnmr"]  # mixed has no genuine pairs, so it is not in the FNMR ratio
    assert (fnmr["worst"], fnmr["best"]) == ("female", "male")
    assert same_sex["groups"]["mixed"]["fnmr"] == {"errors": 0, "pairs": 0, "rate": None, "ci95": None}


def test_table_cells() -> None:
    assert percent(None) == "-" and percent(0.0) == "0" and percent(3e-5) == "0.003%"
    assert rate_cell(Rate(0, 0).as_json()) == "-"
    assert rate_cell(Rate(0, 1000).as_json()) == "0 [0, 0.383%] (0/1000)"
