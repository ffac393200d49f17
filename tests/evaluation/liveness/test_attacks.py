"""Presentation-attack clips: the manifest, the clips, determinism and bad input."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.support import lfw_image, need_data

from realname.errors import DataSourceError, VideoError
from realname.evaluation.liveness import attacks
from realname.evaluation.liveness.attacks import ATTACK_TYPES, MANIFEST_COLUMNS, make_attacks
from realname.liveness.challenges import TURNS, Action, parse_actions
from realname.liveness.video import read_frames

PERSON_A = ("liveness", "genuine", "person_a_turns_nods.mp4")
FPS = 15.0


def lfw_folder() -> Path:
    lfw_image("Aaron_Peirsol", 1)  # skips when LFW is absent
    return need_data("lfw", "lfw-deepfunneled")


def generate(out: Path, seed: int = 0) -> tuple[Path, list[int]]:
    calls: list[int] = []
    manifest = make_attacks(lfw_folder(), out, genuine_clip=need_data(*PERSON_A), per_type=2, seed=seed, fps=FPS,
                            progress=calls.append)
    return manifest, calls


def rows(manifest: Path) -> list[dict[str, str]]:
    with manifest.open(newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == MANIFEST_COLUMNS
        return list(reader)


def first_frame(path: Path) -> np.ndarray:
    frames = read_frames(path)
    try:
        return next(frames)[0]
    finally:
        frames.close()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    return generate(tmp_path_factory.mktemp("attacks"))


@pytest.mark.data
@pytest.mark.models
class TestWithGenuineClip:
    def test_manifest_lists_every_clip_with_label_type_and_challenge(self, made: tuple[Path, list[int]]) -> None:
        manifest, calls = made
        assert manifest.name == "manifest.csv"
        table = rows(manifest)
        assert Counter(r["attack_type"] for r in table) == dict.fromkeys(ATTACK_TYPES, 2)
        assert {r["label"] for r in table} == {"attack"}
        assert calls == list(range(1, len(table) + 1))  # progress: once per clip
        for r in table:
            assert not Path(r["path"]).is_absolute() and (manifest.parent / r["path"]).is_file()
            actions = parse_actions(r["challenge"])
            assert len(set(actions)) == len(actions)
            if r["attack_type"] == "wrong_order":
                assert sum(a.is_head_move for a in actions) == 2
            else:  # a valid kiosk challenge: a head turn and a blink among 2-4 actions
                assert 2 <= len(actions) <= 4 and Action.BLINK in actions and set(actions) & set(TURNS)

    def test_every_clip_opens_with_the_asked_size_and_length(self, made: tuple[Path, list[int]]) -> None:
        manifest, _ = made
        for r in rows(manifest):
            frames = list(read_frames(manifest.parent / r["path"]))
            assert 3 * FPS <= len(frames) <= 4 * FPS, r["path"]
            assert {f.shape for f, _ in frames} == {(480, 640, 3)}
            assert frames[-1][1] == pytest.approx((len(frames) - 1) / FPS)

    def test_same_seed_gives_the_same_manifest_and_frames(self, made: tuple[Path, list[int]],
                                                          tmp_path: Path) -> None:
        manifest, _ = made
        again, _ = generate(tmp_path / "again")
        assert again.read_text() == manifest.read_text()
        for r in rows(manifest):
            assert np.array_equal(first_frame(manifest.parent / r["path"]), first_frame(again.parent / r["path"]))


@pytest.mark.data
def test_without_genuine_clip_the_types_needing_it_are_skipped(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="wrong_order"):
        manifest = make_attacks(lfw_folder(), tmp_path, genuine_clip=None, per_type=1, seed=3, fps=10.0,
                                size=(320, 240))
    table = rows(manifest)
    assert [r["attack_type"] for r in table] == ["print_moved", "two_stills", "identity_switch"]
    for r in table:
        frames = list(read_frames(manifest.parent / r["path"]))
        assert 30 <= len(frames) <= 40 and frames[0][0].shape == (240, 320, 3)


def test_missing_photos_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="no such folder; expected a folder of identity folders") as err:
        make_attacks(tmp_path / "absent", tmp_path / "out", genuine_clip=None, per_type=1)
    assert err.value.code == "photos_not_found"
    assert not (tmp_path / "out").exists()


def make_photos(root: Path, picture: np.ndarray, counts: dict[str, int]) -> Path:
    for person, count in counts.items():
        (root / person).mkdir(parents=True)
        for k in range(count):
            cv2.imwrite(str(root / person / f"{k}.png"), picture)
    return root


def test_too_few_identities_with_two_photos_is_a_clear_error(tmp_path: Path, textured: np.ndarray) -> None:
    photos = make_photos(tmp_path / "photos", textured, {"Alice": 2, "Bob": 1})
    with pytest.raises(DataSourceError, match="1 identity folder"):
        make_attacks(photos, tmp_path / "out", genuine_clip=None, per_type=1)


def test_any_folder_of_identity_folders_works(tmp_path: Path, textured: np.ndarray) -> None:
    photos = make_photos(tmp_path / "photos", textured, {"Alice": 2, "Bob": 2})
    with pytest.warns(UserWarning, match="no genuine clip"):
        manifest = make_attacks(photos, tmp_path / "out", genuine_clip=None, per_type=1, fps=8.0, size=(160, 120))
    for r in rows(manifest):
        frames = list(read_frames(manifest.parent / r["path"]))
        assert 24 <= len(frames) <= 32 and frames[0][0].shape == (120, 160, 3)


def test_a_clip_that_cannot_be_written_is_a_video_error(tmp_path: Path, textured: np.ndarray,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    photos = make_photos(tmp_path / "photos", textured, {"Alice": 2, "Bob": 2})
    monkeypatch.setattr(attacks, "FOURCC", "ZZZZ")  # no such codec
    with pytest.raises(VideoError, match="cannot write") as err, pytest.warns(UserWarning):
        make_attacks(photos, tmp_path / "out", genuine_clip=None, per_type=1)
    assert err.value.code == "video_write_failed"


@pytest.mark.parametrize(("kwargs", "message"), [({"per_type": -1}, "per_type"), ({"fps": 0.0}, "fps"),
                                                 ({"size": (641, 480)}, "even")])
def test_bad_settings_are_refused(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_attacks(tmp_path, tmp_path / "out", genuine_clip=None, **kwargs)  # type: ignore[arg-type]
