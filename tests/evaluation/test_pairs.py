"""Pair sources: LFW pairs.txt, CSV, folders of identity folders (ORL), and an LFW identities list."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from realname.errors import DataSourceError
from realname.evaluation.pairs import (
    Pair,
    PairSet,
    build_identity_pairs,
    identity_folders,
    load_csv,
    load_lfw,
    load_source,
    read_identities,
)


def make_jpeg(path: Path, shade: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (shade, shade, shade)).save(path, "JPEG")
    return path


LFW_PEOPLE = {"Alice_A": 3, "Bob_B": 2, "Carol_C": 1, "Dave_D": 2}


@pytest.fixture
def lfw(tmp_path: Path) -> Path:
    root = tmp_path / "lfw"
    for person, count in LFW_PEOPLE.items():
        for k in range(1, count + 1):
            make_jpeg(root / "lfw-deepfunneled" / person / f"{person}_{k:04d}.jpg", 40 * k)
    (root / "pairs.txt").write_text(
        "2\t1\n"
        "Alice_A\t1\t2\n"
        "Alice_A\t1\tBob_B\t1\n"
        "Bob_B\t1\t2\n"
        "Carol_C\t1\tAlice_A\t3\n"
    )
    return root


def make_orl(root: Path, ids: int = 3, per_id: int = 3) -> Path:
    for i in range(1, ids + 1):
        for k in range(1, per_id + 1):
            make_jpeg(root / f"s{i}" / f"{k}.jpg", 20 * k + i)
        (root / f"s{i}" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def orl(tmp_path: Path) -> Path:
    return make_orl(tmp_path / "orl")


def assert_identity_pairs(ps: PairSet) -> None:
    """Genuine rows first, impostors after; folds cycle 0..9 over the row index."""
    assert [p.fold for p in ps.pairs] == [i % 10 for i in range(len(ps.pairs))]
    flags = [p.same for p in ps.pairs]
    assert flags == sorted(flags, reverse=True)
    for p in ps.pairs:
        assert p.left != p.right
        assert (p.left.parent == p.right.parent) is p.same
        assert p.left.is_file()
        assert p.right.is_file()
    imp = [(p.left, p.right) for p in ps.pairs if not p.same]
    assert len(imp) == len(set(imp))
    gen = [frozenset((p.left, p.right)) for p in ps.pairs if p.same]
    assert len(gen) == len(set(gen))


# --- LFW pairs.txt -----------------------------------------------------------------------------------------

def test_lfw_pairs(lfw: Path) -> None:
    ps = load_lfw(lfw)
    img = lfw / "lfw-deepfunneled"
    assert ps.protocol == "lfw-10fold"
    assert ps.name == "LFW pairs.txt"
    assert ps.pairs == [
        Pair(img / "Alice_A/Alice_A_0001.jpg", img / "Alice_A/Alice_A_0002.jpg", True, 0),
        Pair(img / "Alice_A/Alice_A_0001.jpg", img / "Bob_B/Bob_B_0001.jpg", False, 0),
        Pair(img / "Bob_B/Bob_B_0001.jpg", img / "Bob_B/Bob_B_0002.jpg", True, 1),
        Pair(img / "Carol_C/Carol_C_0001.jpg", img / "Alice_A/Alice_A_0003.jpg", False, 1),
    ]
    assert (ps.genuine, ps.impostor) == (2, 2)
    assert all(p.left.is_file() and p.right.is_file() for p in ps.pairs)


def test_load_source_picks_lfw(lfw: Path) -> None:
    assert load_source(lfw) == load_lfw(lfw)


def test_lfw_plain_folder_name(lfw: Path) -> None:
    (lfw / "lfw-deepfunneled").rename(lfw / "lfw")
    ps = load_lfw(lfw)
    assert ps.pairs[0].left == lfw / "lfw" / "Alice_A" / "Alice_A_0001.jpg"


def test_lfw_view1_without_header(lfw: Path) -> None:
    (lfw / "pairsDevTrain.txt").write_text("Alice_A\t1\t3\nBob_B\t2\tDave_D\t1\n")
    ps = load_lfw(lfw, "pairsDevTrain.txt")
    assert ps.protocol == "lfw-view1"
    assert [p.fold for p in ps.pairs] == [0, 0]
    assert [p.same for p in ps.pairs] == [True, False]


def test_lfw_view1_with_count_line(lfw: Path) -> None:
    (lfw / "pairsDevTrain.txt").write_text("1\nAlice_A\t1\t3\nBob_B\t2\tDave_D\t1\n")
    ps = load_lfw(lfw, "pairsDevTrain.txt")
    assert len(ps.pairs) == 2


def test_lfw_header_count_mismatch(lfw: Path) -> None:
    (lfw / "pairs.txt").write_text("3\t1\nAlice_A\t1\t2\nAlice_A\t1\tBob_B\t1\n")
    with pytest.raises(DataSourceError, match=r"header promises 3x1x2 pairs, found 2"):
        load_lfw(lfw)


def test_lfw_bad_field_count(lfw: Path) -> None:
    (lfw / "pairs.txt").write_text("1\t1\nAlice_A\t1\t2\nAlice_A\t1\tBob_B\t1\textra\n")
    with pytest.raises(DataSourceError, match="line 2: expected 3 or 4 fields, found 5"):
        load_lfw(lfw)


def test_lfw_non_numeric_image_number(lfw: Path) -> None:
    (lfw / "pairs.txt").write_text("Alice_A\tone\t2\n")
    with pytest.raises(DataSourceError):
        load_lfw(lfw)


def test_lfw_missing_pairs_file(lfw: Path) -> None:
    with pytest.raises(DataSourceError, match=r"pairsDevTest\.txt"):
        load_lfw(lfw, "pairsDevTest.txt")


def test_lfw_missing_images_folder(tmp_path: Path) -> None:
    (tmp_path / "pairs.txt").write_text("Alice_A\t1\t2\n")
    with pytest.raises(DataSourceError, match="lfw-deepfunneled"):
        load_lfw(tmp_path)


# --- CSV ---------------------------------------------------------------------------------------------------

SAME_VALUES = ["1", "0", "true", "False", "yes", "NO", " 1 ", "TRUE", "0", "1", "no", "Yes"]


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_pairs(tmp_path: Path) -> None:
    rows = "".join(f"img/a{i}.jpg,img/b{i}.jpg,{v}\n" for i, v in enumerate(SAME_VALUES))
    path = write_csv(tmp_path / "data" / "pairs.csv", "left,right,same\n" + rows, "utf-8-sig")
    ps = load_csv(path)
    assert ps.name == "pairs.csv"
    assert ps.protocol == "csv-10fold"
    assert len(ps.pairs) == 12
    assert [p.fold for p in ps.pairs] == [i % 10 for i in range(12)]
    expected = [v.strip().lower() in {"1", "true", "yes"} for v in SAME_VALUES]
    assert [p.same for p in ps.pairs] == expected
    assert (ps.genuine, ps.impostor) == (sum(expected), 12 - sum(expected))
    assert ps.pairs[3].left == tmp_path / "data" / "img" / "a3.jpg"  # relative to the CSV, not the cwd
    assert ps.pairs[3].right == tmp_path / "data" / "img" / "b3.jpg"
    assert load_source(path) == ps


def test_csv_extra_columns_any_order(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "same,note,right,left\n1,x,r.jpg,l.jpg\n")
    (pair,) = load_csv(path).pairs
    assert (pair.left.name, pair.right.name, pair.same, pair.fold) == ("l.jpg", "r.jpg", True, 0)


def test_csv_without_group_column_has_no_groups(tmp_path: Path) -> None:
    ps = load_csv(write_csv(tmp_path / "p.csv", "left,right,same\na.jpg,b.jpg,1\na.jpg,c.jpg,0\n"))
    assert [p.group for p in ps.pairs] == [None, None] and not ps.grouped


def test_csv_group_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "left,right,same,group\na.jpg,b.jpg,1, female \n"
                                         "a.jpg,c.jpg,0,female-male\nd.jpg,e.jpg,1,male\n")
    ps = load_csv(path)
    assert ps.grouped
    assert [(p.same, p.group) for p in ps.pairs] == [(True, "female"), (False, "female-male"), (True, "male")]


@pytest.mark.parametrize("value", ["", "   "])
def test_csv_empty_group(tmp_path: Path, value: str) -> None:
    path = write_csv(tmp_path / "p.csv", f"left,right,same,group\na.jpg,b.jpg,1,F\na.jpg,c.jpg,0,{value}\n")
    with pytest.raises(DataSourceError, match="row 3: empty group"):
        load_csv(path)


def test_csv_row_short_of_its_group(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "left,right,same,group\na.jpg,b.jpg,1\n")
    with pytest.raises(DataSourceError, match="row 2: empty group"):
        load_csv(path)


def test_csv_bad_same_value(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "left,right,same\na.jpg,b.jpg,1\na.jpg,c.jpg,maybe\n")
    with pytest.raises(DataSourceError, match=r"row 3: same='maybe'"):
        load_csv(path)


def test_csv_short_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "left,right,same\na.jpg,b.jpg,1\na.jpg,c.jpg\n")
    with pytest.raises(DataSourceError, match="row 3"):
        load_csv(path)


def test_csv_missing_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "left,right,label\na.jpg,b.jpg,1\n")
    with pytest.raises(DataSourceError, match=r"missing column\(s\) same"):
        load_csv(path)


def test_csv_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="missing column"):
        load_csv(write_csv(tmp_path / "p.csv", ""))


def test_csv_header_only(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="no pairs"):
        load_csv(write_csv(tmp_path / "p.csv", "left,right,same\n"))


def test_csv_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"left,right,same\n\xff\xfe\x00bad,b.jpg,1\n")
    with pytest.raises(DataSourceError, match="cannot read as CSV"):
        load_csv(path)


def test_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="cannot read"):
        load_csv(tmp_path / "absent.csv")


def test_csv_with_identities_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", "left,right,same\na.jpg,b.jpg,1\n")
    with pytest.raises(DataSourceError, match="identities"):
        load_source(path, identities=tmp_path / "ids.txt")


# --- identity folders --------------------------------------------------------------------------------------

def test_identity_folders_lists_images_only(orl: Path) -> None:
    people = identity_folders(orl)
    assert sorted(people) == ["s1", "s2", "s3"]
    assert people["s1"] == [orl / "s1" / f"{k}.jpg" for k in (1, 2, 3)]


def test_identity_folders_named_absent(orl: Path) -> None:
    with pytest.raises(DataSourceError, match="s9"):
        identity_folders(orl, ["s1", "s9"])


def test_orl_folders(orl: Path) -> None:
    ps = load_source(orl)
    assert ps.name == "orl"
    assert ps.protocol == "identities-20-per-identity"
    assert ps.genuine == 3 * 3  # C(3, 2) per identity, under the cap
    assert ps.impostor == ps.genuine
    assert len(ps.pairs) == 18
    assert_identity_pairs(ps)


def test_orl_deterministic(orl: Path) -> None:
    assert load_source(orl) == load_source(orl)
    people = identity_folders(orl)
    assert build_identity_pairs("x", people, 1, seed=5) == build_identity_pairs("x", people, 1, seed=5)
    drawn = {tuple(build_identity_pairs("x", people, 1, seed=s).pairs) for s in range(6)}
    assert len(drawn) > 1  # the seed does matter


def test_genuine_capped_per_identity(orl: Path) -> None:
    ps = load_source(orl, per_identity=2)
    assert ps.protocol == "identities-2-per-identity"
    per_person = Counter(p.left.parent.name for p in ps.pairs if p.same)
    assert per_person == {"s1": 2, "s2": 2, "s3": 2}
    assert ps.impostor == ps.genuine == 6
    assert_identity_pairs(ps)


def test_impostors_capped_by_what_exists(tmp_path: Path) -> None:
    a = [make_jpeg(tmp_path / "a" / f"{k}.jpg") for k in range(4)]
    b = [make_jpeg(tmp_path / "b" / "1.jpg")]
    ps = build_identity_pairs("tiny", {"a": a, "b": b})
    assert ps.genuine == 6  # C(4, 2)
    assert ps.impostor == 4  # only 4 x 1 cross-identity pairs exist
    assert_identity_pairs(ps)


def test_impostor_comparisons_are_distinct(tmp_path: Path) -> None:
    a = [make_jpeg(tmp_path / "a" / f"{k}.jpg") for k in range(4)]
    b = [make_jpeg(tmp_path / "b" / "1.jpg")]
    ps = build_identity_pairs("tiny", {"a": a, "b": b})
    comparisons = [frozenset((p.left, p.right)) for p in ps.pairs if not p.same]
    assert len(set(comparisons)) == len(comparisons) == 4


def test_wrapped_orl_folder(tmp_path: Path) -> None:
    outer = tmp_path / "orl"
    inner = make_orl(outer / "att_faces")
    (outer / "SOURCE.md").write_text("where this came from\n")
    (inner / "README").write_text("ORL faces\n")
    wrapped = load_source(outer)
    assert wrapped == load_source(inner)
    assert wrapped.genuine == 9
    assert wrapped.pairs[0].left.parent.parent == inner


def test_one_identity_is_not_enough(tmp_path: Path) -> None:
    for k in range(3):
        make_jpeg(tmp_path / "ids" / "s1" / f"{k}.jpg")
    (tmp_path / "ids" / "s2").mkdir()
    with pytest.raises(DataSourceError, match="identity folders"):
        load_source(tmp_path / "ids")
    with pytest.raises(DataSourceError, match="two identities"):
        build_identity_pairs("one", identity_folders(tmp_path / "ids"))


def test_no_identity_with_two_images(tmp_path: Path) -> None:
    people = {n: [make_jpeg(tmp_path / n / "1.jpg")] for n in ("a", "b", "c")}
    with pytest.raises(DataSourceError, match="no genuine pairs"):
        build_identity_pairs("singles", people)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"neither pairs\.txt nor a folder of identity folders"):
        load_source(tmp_path)


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="no such file or folder"):
        load_source(tmp_path / "nowhere")


# --- identities list over an LFW folder -------------------------------------------------------------------

IDS_TEXT = "# hand-picked list\n# name<TAB>count\nAlice_A\t3\n\nBob_B\t2\n#Carol_C\t1\nDave_D\n"


def test_read_identities(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text(IDS_TEXT)
    assert read_identities(path) == ["Alice_A", "Bob_B", "Dave_D"]


def test_read_identities_empty_or_missing(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("# only a comment\n\n")
    with pytest.raises(DataSourceError, match="no identities"):
        read_identities(path)
    with pytest.raises(DataSourceError, match="cannot read"):
        read_identities(tmp_path / "absent.txt")


def test_identities_mode(lfw: Path, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text(IDS_TEXT)
    ps = load_source(lfw, identities=ids)  # pairs.txt is present but not used
    assert ps.name == "lfw identities from ids.txt"
    assert ps.protocol == "identities-20-per-identity"
    people = {p.left.parent.name for p in ps.pairs} | {p.right.parent.name for p in ps.pairs}
    assert people == {"Alice_A", "Bob_B", "Dave_D"}  # Carol is commented out
    assert ps.genuine == 3 + 1 + 1  # C(3,2) + C(2,2) + C(2,2)
    assert ps.impostor == ps.genuine
    assert_identity_pairs(ps)
    assert load_source(lfw, identities=ids) == ps
    capped = load_source(lfw, identities=ids, per_identity=1)
    assert capped.genuine == 3
    assert Counter(p.left.parent.name for p in capped.pairs if p.same) == {"Alice_A": 1, "Bob_B": 1,
                                                                          "Dave_D": 1}


def test_identities_mode_unknown_name(lfw: Path, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("Alice_A\nZed_Z\n")
    with pytest.raises(DataSourceError, match="Zed_Z"):
        load_source(lfw, identities=ids)


def test_identities_mode_genuine_pairs_are_all_combinations(lfw: Path, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("Alice_A\nBob_B\n")
    ps = load_source(lfw, identities=ids)
    alice = sorted((lfw / "lfw-deepfunneled" / "Alice_A").iterdir())
    expected = {frozenset(c) for c in itertools.combinations(alice, 2)}
    got = {frozenset((p.left, p.right)) for p in ps.pairs if p.same and p.left.parent.name == "Alice_A"}
    assert got == expected
