"""benchmarks/demographics.py (the East-Asian-by-sex table): its sex labels cover the identities list, its
all-pairs impostor cosines equal the matcher's, and its groups hold the pairs the convention says."""

from __future__ import annotations

import functools
import importlib.util
import itertools
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from tests.support import ROOT, need_data

from realname.engine import build_engine
from realname.errors import DataSourceError
from realname.evaluation.extract import extract_all
from realname.evaluation.pairs import build_identity_pairs, identity_folders, read_identities
from realname.verification.thresholds import load_thresholds


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demographics", ROOT / "benchmarks" / "demographics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demographics = load_script()


def test_every_listed_identity_has_a_sex() -> None:
    names = read_identities(need_data("lfw", "east_asian_identities.txt"))
    sex = demographics.read_sex(demographics.SEX_FILE, names)
    assert len(names) == 34 and set(sex) == set(names)
    assert sum(v == "female" for v in sex.values()) == 6


def test_unlabelled_identity_is_refused(tmp_path: Path) -> None:
    tsv = tmp_path / "sex.tsv"
    tsv.write_text("# header\nA_B\tfemale\nC_D\tunknown\n")
    with pytest.raises(DataSourceError, match="C_D, E_F"):
        demographics.read_sex(tsv, ["A_B", "C_D", "E_F"])


@pytest.mark.models
def test_cosines_and_groups_on_a_few_people() -> None:
    lfw = need_data("lfw", "lfw-deepfunneled")
    names = ["Annette_Lu", "Yao_Ming", "Zhang_Ziyi"]
    sex = {"Annette_Lu": "female", "Yao_Ming": "male", "Zhang_Ziyi": "female"}
    people = {n: files[:3] for n, files in identity_folders(lfw, names).items()}
    images = sorted(p for files in people.values() for p in files)
    extracted = extract_all(functools.partial(build_engine, "local"),
                            {(p, d) for p in images for d in (False, True)}, 1)
    for degrade in (False, True):
        cos, who = demographics.impostor_cosines(images, extracted, degrade)
        expected = [(a, b) for a, b in itertools.combinations(images, 2) if a.parent != b.parent]
        assert who == [(a.parent.name, b.parent.name) for a, b in expected]
        for m in demographics.MODELS:
            ref = [extracted[(a, False)].templates[m].similarity(extracted[(b, degrade)].templates[m])
                   for a, b in expected]
            np.testing.assert_allclose(cos[m], ref, atol=1e-6)

    pairs = build_identity_pairs("three", people)
    c = demographics.condition(pairs, images, extracted, load_thresholds(None), sex, True)
    groups = c["strategies"]["cascade"]["groups"]
    assert groups["female"]["fmr"]["pairs"] == 3 * 3  # Annette_Lu x Zhang_Ziyi
    assert groups["mixed"]["fmr"]["pairs"] == 6 * 3  # the two women's images x Yao_Ming's
    assert groups["male"]["fmr"]["pairs"] == 0  # one man: no male-male impostor pair
    assert groups["female"]["fnmr"]["pairs"] == 6 and groups["male"]["fnmr"]["pairs"] == 3
    assert c["people"] == {"female": {"genuine": 2, "impostor": 2}, "male": {"genuine": 1, "impostor": 0},
                           "mixed": {"genuine": 0, "impostor": 3}}
    assert c["strategies"]["cascade"]["differential"]["fmr"] is None  # only one same-sex group has impostors
