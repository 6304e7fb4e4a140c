"""`shoes-data flatten`: one folder, no lost same-named files, nothing overwritten."""

import csv

import pytest

from tests.harness import shoe_image, write_corrupt, write_image


@pytest.fixture
def tree(tmp_path):
    """Two different `shoe.jpg` in two folders, a PNG at the top, one corrupt file."""
    src = tmp_path / "src"
    write_image(src / "Boots" / "Ankle" / "shoe.jpg", shoe_image(16, (200, 30, 30)))
    write_image(src / "Shoes" / "Flat" / "shoe.jpg", shoe_image(16, (30, 30, 200)))
    write_image(src / "top.png", shoe_image(16))
    write_corrupt(src / "Shoes" / "broken.jpg", "truncated")
    return src


def read_mapping(path):
    with open(path, newline="") as handle:
        return {row["source"]: row["destination"] for row in csv.DictReader(handle)}


def test_same_names_in_two_folders_are_both_kept(cli, tree, tmp_path):
    dst = tmp_path / "flat"
    code, summary, _ = cli(["flatten", tree, dst])
    assert code == 0
    assert sorted(p.name for p in dst.iterdir()) == ["Boots_Ankle_shoe.jpg", "Shoes_Flat_shoe.jpg", "flatten_mapping.csv", "top.png"]
    assert (dst / "Boots_Ankle_shoe.jpg").read_bytes() == (tree / "Boots" / "Ankle" / "shoe.jpg").read_bytes()
    assert (dst / "Shoes_Flat_shoe.jpg").read_bytes() == (tree / "Shoes" / "Flat" / "shoe.jpg").read_bytes()
    assert read_mapping(dst / "flatten_mapping.csv") == {
        "Boots/Ankle/shoe.jpg": "Boots_Ankle_shoe.jpg",
        "Shoes/Flat/shoe.jpg": "Shoes_Flat_shoe.jpg",
        "top.png": "top.png",
    }
    assert summary["found"] == 4 and summary["written"] == 3 and summary["mode"] == "copy"
    assert (tree / "Boots" / "Ankle" / "shoe.jpg").exists()  # copied, not moved


def test_corrupt_files_are_skipped_and_left_in_place_even_with_move(cli, tree, tmp_path):
    code, summary, _ = cli(["flatten", tree, tmp_path / "flat", "--move"])
    assert code == 0
    assert summary["skipped"] == 1 and summary["skipped_files"][0]["path"] == "Shoes/broken.jpg"
    assert (tree / "Shoes" / "broken.jpg").exists()
    assert not (tmp_path / "flat" / "Shoes_broken.jpg").exists()


def test_no_check_copies_corrupt_files_by_name(cli, tree, tmp_path):
    code, summary, _ = cli(["flatten", tree, tmp_path / "flat", "--no-check"])
    assert code == 0 and summary["skipped"] == 0 and summary["written"] == 4
    assert (tmp_path / "flat" / "Shoes_broken.jpg").exists()


def test_move_removes_the_sources(cli, tree, tmp_path):
    code, summary, _ = cli(["flatten", tree, tmp_path / "flat", "--move"])
    assert code == 0 and summary["mode"] == "move" and summary["written"] == 3
    assert not (tree / "Boots" / "Ankle" / "shoe.jpg").exists()
    assert not (tree / "top.png").exists()
    assert (tmp_path / "flat" / "Boots_Ankle_shoe.jpg").exists()


def test_name_naming_adds_numbers_and_existing_files_are_never_overwritten(cli, tree, tmp_path):
    dst = tmp_path / "flat"
    dst.mkdir()
    (dst / "SHOE.jpg").write_bytes(b"precious")  # same name, other case
    (dst / "flatten_mapping.csv").write_text("older mapping\n")
    code, summary, _ = cli(["flatten", tree, dst, "--naming", "name"])
    assert code == 0
    assert (dst / "SHOE.jpg").read_bytes() == b"precious"
    assert (dst / "flatten_mapping.csv").read_text() == "older mapping\n"
    mapping = read_mapping(dst / "flatten_mapping_1.csv")
    assert mapping == {"Boots/Ankle/shoe.jpg": "shoe_1.jpg", "Shoes/Flat/shoe.jpg": "shoe_2.jpg", "top.png": "top.png"}
    assert summary["collisions_renamed"] == 2
    assert summary["mapping"].endswith("flatten_mapping_1.csv")


def test_rerun_into_the_same_folder_keeps_both_copies(cli, tree, tmp_path):
    dst = tmp_path / "flat"
    cli(["flatten", tree, dst])
    code, summary, _ = cli(["flatten", tree, dst])
    assert code == 0 and summary["collisions_renamed"] == 3
    assert (dst / "Boots_Ankle_shoe_1.jpg").exists() and (dst / "top_1.png").exists()


def test_bad_folders_are_named(cli, tree, tmp_path):
    code, _, err = cli(["flatten", tmp_path / "missing", tmp_path / "flat"])
    assert code == 2 and "missing" in err
    code, _, err = cli(["flatten", tree, tree / "flat"])
    assert code == 2 and "outside the source folder" in err and "DST=" in err
    (tmp_path / "file").write_text("x")
    code, _, err = cli(["flatten", tree, tmp_path / "file"])
    assert code == 2 and "not a folder" in err
