"""benchmarks/sketch_styles.py's bookkeeping: each judge's accuracy per style, the figure's shoes, and its argument checks."""

import numpy as np
import pytest

from shoes_generator.data.fmnist import CATEGORY_NAMES
from tests.evaluation.test_crosscheck import load_benchmark


def test_type_accuracy_reads_each_judge_and_the_project_judges_types():
    bench = load_benchmark("sketch_styles")
    categories = np.array(["sandal", "sandal", "sneaker", "ankle_boot"])
    judge = {"project": lambda images: np.array(["sandal", "sneaker", "sneaker", "ankle_boot"]),
             "crosscheck": lambda images: np.array(["sandal", "sandal", "sandal", "sandal"])}
    report = bench.type_accuracy(judge, np.zeros((4, 8, 8, 3), np.uint8), categories)
    assert report["project_type_accuracy"] == 0.75 and report["crosscheck_type_accuracy"] == 0.5
    assert report["project_per_type"] == {"sandal": 0.5, "sneaker": 1.0, "ankle_boot": 1.0}


def test_the_figure_shows_the_first_shoes_of_each_type_in_type_order():
    bench = load_benchmark("sketch_styles")
    categories = np.array(["ankle_boot", "sandal", "sneaker", "sandal", "ankle_boot", "sandal", "sneaker", "ankle_boot"])
    assert bench.FIGURE_SHOES == 2 and tuple(CATEGORY_NAMES) == ("sandal", "sneaker", "ankle_boot")
    assert bench.figure_rows(categories) == [1, 3, 2, 6, 0, 4]


def test_bad_arguments_stop_before_any_drawing(tmp_path, capsys):
    bench = load_benchmark("sketch_styles")
    with pytest.raises(SystemExit):
        bench.main([str(tmp_path), "--names", "a", "b"])
    assert "one name per model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main([str(tmp_path / "missing")])
    assert "SavedModel directory or a run directory" in capsys.readouterr().err
