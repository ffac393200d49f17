"""Where pairs to measure come from.

- An LFW folder (``pairs.txt`` beside ``lfw-deepfunneled/`` or ``lfw/``): the standard View 2 protocol,
  10 folds of 300 genuine + 300 impostor pairs. ``pairsDevTrain.txt``/``pairsDevTest.txt`` (View 1) can be
  named instead with ``protocol``.
- A CSV with columns ``left,right,same`` (paths relative to the CSV); fold = row index mod 10. An optional
  ``group`` column names each pair's group (sex, age band, region: whatever the operator measures by), for
  per-group error rates (:mod:`realname.evaluation.groups`); when the column is there, every row needs one.
- A folder of identity folders (ORL's ``s1/ ... s40/``), or an LFW folder with an identities list: genuine
  pairs within each identity (at most ``per_identity``) and as many impostor pairs between identities,
  drawn with a fixed seed so the set is the same on every run; fold = row index mod 10.
"""

from __future__ import annotations

import csv
import itertools
import random
from dataclasses import dataclass
from pathlib import Path

from realname.errors import DataSourceError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Pair:
    left: Path
    right: Path
    same: bool
    fold: int
    group: str | None = None


@dataclass(frozen=True)
class PairSet:
    name: str
    pairs: list[Pair]
    protocol: str

    @property
    def genuine(self) -> int:
        return sum(p.same for p in self.pairs)

    @property
    def impostor(self) -> int:
        return len(self.pairs) - self.genuine

    @property
    def grouped(self) -> bool:
        return any(p.group is not None for p in self.pairs)


def _lfw_images_dir(root: Path) -> Path:
    for name in ("lfw-deepfunneled", "lfw", "lfw_funneled"):
        if (root / name).is_dir():
            return root / name
    raise DataSourceError(f"{root}: no lfw-deepfunneled/ (or lfw/) folder of identity folders inside")


def _lfw_path(images: Path, name: str, number: str) -> Path:
    return images / name / f"{name}_{int(number):04d}.jpg"


def load_lfw(root: Path, protocol: str = "pairs.txt") -> PairSet:
    images = _lfw_images_dir(root)
    pairs_file = root / protocol
    if not pairs_file.is_file():
        raise DataSourceError(f"{root}: no {protocol} (the LFW pairs list) in this folder")
    lines = [ln.split() for ln in pairs_file.read_text().splitlines() if ln.strip()]
    per_fold = 0
    if lines and len(lines[0]) == 1 and lines[0][0].isdigit():
        lines = lines[1:]  # View 1 files may start with their pair count
    elif lines and len(lines[0]) == 2 and all(x.isdigit() for x in lines[0]):
        folds, per_fold = int(lines[0][0]), int(lines[0][1])
        lines = lines[1:]
        if len(lines) != folds * per_fold * 2:
            raise DataSourceError(f"{pairs_file}: header promises {folds}x{per_fold}x2 pairs, found {len(lines)}")
    out: list[Pair] = []
    for i, row in enumerate(lines):
        fold = i // (2 * per_fold) if per_fold else 0
        numbers = [row[1], row[2]] if len(row) == 3 else [row[1], row[3]] if len(row) == 4 else []
        if not all(n.isdigit() for n in numbers):
            raise DataSourceError(f"{pairs_file}, line {i + 1}: image numbers must be digits: {' '.join(row)}")
        if len(row) == 3:
            out.append(Pair(_lfw_path(images, row[0], row[1]), _lfw_path(images, row[0], row[2]), True, fold))
        elif len(row) == 4:
            out.append(Pair(_lfw_path(images, row[0], row[1]), _lfw_path(images, row[2], row[3]), False, fold))
        else:
            raise DataSourceError(f"{pairs_file}, line {i + 1}: expected 3 or 4 fields, found {len(row)}")
    return PairSet(f"LFW {protocol}", out, "lfw-10fold" if per_fold else "lfw-view1")


def load_csv(path: Path) -> PairSet:
    base = path.parent
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = {"left", "right", "same"} - set(reader.fieldnames or [])
            if missing:
                raise DataSourceError(f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                                      "expected left,right,same")
            has_group = "group" in (reader.fieldnames or [])
            out = []
            for i, row in enumerate(reader):
                same = (row["same"] or "").strip().lower()
                if same not in {"1", "0", "true", "false", "yes", "no"}:
                    raise DataSourceError(f"{path}, row {i + 2}: same={row['same']!r}, expected 1 or 0")
                group = (row["group"] or "").strip() if has_group else None
                if group == "":
                    # A pair without a group would silently drop out of every group's rates.
                    raise DataSourceError(f"{path}, row {i + 2}: empty group; with a group column, every "
                                          "pair needs a group")
                out.append(Pair(base / row["left"], base / row["right"],
                                same in {"1", "true", "yes"}, i % 10, group))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataSourceError(f"{path}: cannot read as CSV ({exc})") from None
    if not out:
        raise DataSourceError(f"{path}: no pairs")
    return PairSet(path.name, out, "csv-10fold")


def identity_folders(root: Path, names: list[str] | None = None) -> dict[str, list[Path]]:
    if names is None:
        dirs = sorted(d for d in root.iterdir() if d.is_dir())
    else:
        dirs = [root / n for n in names]
        absent = [d.name for d in dirs if not d.is_dir()]
        if absent:
            raise DataSourceError(f"{root}: no folder for identities {', '.join(absent[:5])}")
    out = {}
    for d in dirs:
        files = sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if files:
            out[d.name] = files
    return out


def build_identity_pairs(name: str, people: dict[str, list[Path]], per_identity: int = 20,
                         seed: int = 0) -> PairSet:
    rng = random.Random(seed)
    genuine: list[tuple[Path, Path]] = []
    for person in sorted(people):
        combos = list(itertools.combinations(people[person], 2))
        rng.shuffle(combos)
        genuine.extend(combos[:per_identity])
    if not genuine:
        raise DataSourceError(f"{name}: no identity has two images, so there are no genuine pairs")
    ids = sorted(people)
    if len(ids) < 2:
        raise DataSourceError(f"{name}: need at least two identities for impostor pairs")
    impostor: set[tuple[Path, Path]] = set()
    possible = sum(len(people[a]) * len(people[b]) for a, b in itertools.combinations(ids, 2))
    target = min(len(genuine), possible)
    while len(impostor) < target:
        a, b = sorted(rng.sample(ids, 2))  # one order per pair of people, so (x, y) and (y, x) are one pair
        impostor.add((rng.choice(people[a]), rng.choice(people[b])))
    rows = [(left, right, True) for left, right in genuine] + [(left, right, False) for left, right in
                                                               sorted(impostor)]
    return PairSet(name, [Pair(left, right, s, i % 10) for i, (left, right, s) in enumerate(rows)],
                   f"identities-{per_identity}-per-identity")


def read_identities(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataSourceError(f"{path}: cannot read identities list ({exc.strerror})") from None
    names = [ln.split("\t")[0].strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    if not names:
        raise DataSourceError(f"{path}: no identities listed")
    return names


def load_source(source: Path, identities: Path | None = None, protocol: str = "pairs.txt",
                per_identity: int = 20) -> PairSet:
    """Pick the protocol from what ``source`` is (see the module docstring)."""
    if not source.exists():
        raise DataSourceError(f"{source}: no such file or folder")
    if source.is_file():
        if identities is not None:
            raise DataSourceError("--identities needs an LFW folder, not a CSV file")
        return load_csv(source)
    if identities is not None:
        people = identity_folders(_lfw_images_dir(source), read_identities(identities))
        return build_identity_pairs(f"{source.name} identities from {identities.name}", people, per_identity)
    if (source / protocol).is_file():
        return load_lfw(source, protocol)
    people = identity_folders(source)
    if len(people) < 2:
        # ORL-style archives often have one wrapper folder (att_faces/) around the identities.
        subdirs = [d for d in source.iterdir() if d.is_dir()]
        if len(subdirs) == 1:
            return load_source(subdirs[0], None, protocol, per_identity)
        raise DataSourceError(f"{source}: neither {protocol} nor a folder of identity folders")
    return build_identity_pairs(source.name, people, per_identity)
