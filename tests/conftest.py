"""Fixtures over the shared harness (tests/harness.py)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from tests import harness


@pytest.fixture
def zappos_tree(tmp_path):
    """A tiny UT-Zappos50K tree (with two corrupt files); returns the images folder."""
    return harness.fake_zappos(tmp_path / "zappos")


@pytest.fixture
def ab_pairs(tmp_path):
    """A folder of four 16x32 ``A|B`` JPEGs."""
    return harness.fake_ab_pairs(tmp_path / "edges2shoes")


@pytest.fixture
def triplets(tmp_path):
    """A folder with ``input/``, ``mask/``, ``target/`` subfolders."""
    return harness.fake_triplets(tmp_path / "triplets")


@pytest.fixture
def cli(capsys):
    """Calls `shoes-data` in-process: ``code, summary, stderr = cli([...])``."""
    return lambda argv: harness.run_cli(argv, capsys)


@pytest.fixture(scope="session")
def stylegan2_run(tmp_path_factory):
    """The directory of one `stylegan2_fmnist_color_tiny` run (trained once per test process; read it, do not change it)."""
    from shoes_generator.configs import get_preset
    from shoes_generator.trainer import train

    return train(get_preset("stylegan2_fmnist_color_tiny"), out=tmp_path_factory.mktemp("stylegan2_runs"), verbose=0).run_dir


@pytest.fixture(scope="session")
def spade_run(tmp_path_factory):
    """The directory of one `spade_fmnist_parts_tiny` run (trained once per test process; read it, do not change it)."""
    from shoes_generator.configs import get_preset
    from shoes_generator.trainer import train

    return train(get_preset("spade_fmnist_parts_tiny"), out=tmp_path_factory.mktemp("spade_runs"), verbose=0).run_dir


@pytest.fixture(scope="session")
def pattern_run(tmp_path_factory):
    """The directory of one `pattern_fmnist_tiny` run (trained once per test process; read it, do not change it)."""
    from shoes_generator.configs import get_preset
    from shoes_generator.trainer import train

    return train(get_preset("pattern_fmnist_tiny"), out=tmp_path_factory.mktemp("pattern_runs"), verbose=0).run_dir
