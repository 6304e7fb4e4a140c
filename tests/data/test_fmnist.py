"""Fashion-MNIST shoes: the three-place lookup, the idx parser, the grayscale and coloured pipelines."""

import gzip

import numpy as np
import pytest

from shoes_generator.data.pipeline import PipelineOptions
from shoes_generator.data import fmnist
from shoes_generator.imaging.colors import COLOR_NAMES
from tests.harness import shoe_image

# Two of each class 0-9: six shoes (two sandals, two sneakers, two ankle boots) per split.
LABELS = np.repeat(np.arange(10), 2).astype(np.uint8)


def fake_images(count, brightness=200):
    """Light shoe silhouettes on black, 28x28, each a little brighter than the last."""
    base = np.asarray(shoe_image(28, (brightness,) * 3, background=(0, 0, 0)).convert("L"))
    return np.stack([np.clip(base.astype(int) + (base > 0) * i, 0, 255).astype(np.uint8) for i in range(count)])


def write_fake(folder, brightness=200):
    for split in fmnist.SPLITS:
        fmnist.write_split(folder, split, fake_images(len(LABELS), brightness), LABELS)
    return folder


@pytest.fixture
def fake_dir(tmp_path):
    return write_fake(tmp_path / "fmnist")


def no_download(monkeypatch):
    import keras

    def fail():
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fail)


def test_idx_round_trip_and_big_endian_header(tmp_path):
    images, labels = fake_images(3), np.array([5, 7, 9], np.uint8)
    fmnist.write_split(tmp_path, "test", images, labels)
    raw = gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz").read()
    assert raw[:16] == (2051).to_bytes(4, "big") + (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    np.testing.assert_array_equal(fmnist.read_idx(tmp_path / "t10k-images-idx3-ubyte.gz", 2051), images)
    np.testing.assert_array_equal(fmnist.read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", 2049), labels)


def test_read_idx_rejects_wrong_magic_and_truncated_data(tmp_path):
    fmnist.write_split(tmp_path, "train", fake_images(2), np.array([5, 7], np.uint8))
    with pytest.raises(ValueError, match="magic 2051. Received: magic=2049"):
        fmnist.read_idx(tmp_path / "train-labels-idx1-ubyte.gz", 2051)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-5]))
    with pytest.raises(ValueError, match="holds 1563 values"):
        fmnist.read_idx(path, 2051)


def test_first_folder_with_the_files_wins(tmp_path, monkeypatch):
    no_download(monkeypatch)
    first, second = write_fake(tmp_path / "a", brightness=100), write_fake(tmp_path / "b", brightness=250)
    images, _ = fmnist.load_shoe_arrays("train", search_dirs=[tmp_path / "missing", first, second])
    assert images.max() < 200  # from "a", not "b"
    images, _ = fmnist.load_shoe_arrays("train", search_dirs=[tmp_path / "missing", second])
    assert images.max() >= 250


def test_keras_download_is_the_last_resort(tmp_path, monkeypatch):
    import keras

    data = (fake_images(20), LABELS), (fake_images(20), LABELS[::-1].copy())
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: data)
    _, categories = fmnist.load_shoe_arrays("test", search_dirs=[tmp_path / "empty"])
    assert list(categories) == ["ankle_boot", "ankle_boot", "sneaker", "sneaker", "sandal", "sandal"]


def test_clear_error_names_all_three_places(tmp_path, monkeypatch):
    no_download(monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    debian = tmp_path / "debian"
    with pytest.raises(fmnist.FashionMNISTNotFoundError) as info:
        fmnist.load_shoe_arrays("train", search_dirs=[debian, fmnist.keras_cache_dir()])
    message = str(info.value)
    assert str(debian) in message
    assert str(tmp_path / "keras_home" / "datasets" / "fashion-mnist") in message
    assert "keras.datasets.fashion_mnist.load_data()" in message and "network unreachable" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert isinstance(info.value, FileNotFoundError)


def test_default_places_are_debian_then_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert fmnist.default_search_dirs() == (fmnist.DEBIAN_DIR, tmp_path / "datasets" / "fashion-mnist")


def test_shoes_only_with_string_names_limit_and_per_class(fake_dir):
    images, categories = fmnist.load_shoe_arrays("train", search_dirs=[fake_dir], download=False)
    assert images.shape == (6, 28, 28) and images.dtype == np.uint8
    assert list(categories) == ["sandal", "sandal", "sneaker", "sneaker", "ankle_boot", "ankle_boot"]
    _, categories = fmnist.load_shoe_arrays("train", search_dirs=[fake_dir], download=False, per_class=1)
    assert list(categories) == ["sandal", "sneaker", "ankle_boot"]
    _, categories = fmnist.load_shoe_arrays("train", search_dirs=[fake_dir], download=False, limit=3)
    assert list(categories) == ["sandal", "sandal", "sneaker"]
    with pytest.raises(ValueError, match="Received: limit=0"):
        fmnist.load_shoe_arrays("train", search_dirs=[fake_dir], download=False, limit=0)
    with pytest.raises(ValueError, match="Received: split='val'"):
        fmnist.load_shoe_arrays("val", search_dirs=[fake_dir], download=False)


def test_vocabularies():
    assert fmnist.vocabularies() == {"category": ("sandal", "sneaker", "ankle_boot")}
    assert fmnist.vocabularies(colored=True)["color"] == COLOR_NAMES


@pytest.mark.parametrize("size,channels,fit", [(32, 1, "pad"), (64, 3, "pad"), (32, 1, "resize")])
def test_grayscale_pipeline(fake_dir, size, channels, fit):
    options = PipelineOptions(image_size=size, channels=channels, fit=fit, batch_size=4, shuffle=False)
    batch = next(iter(fmnist.fmnist_shoes("train", options, search_dirs=[fake_dir], download=False)))
    assert batch["image"].shape == (4, size, size, channels)
    image = batch["image"].numpy()
    assert image.min() >= -1.0 and image.max() <= 1.0 and image.max() > 0.5
    margin = size // 16 if fit == "pad" else 0  # 2 px of 32 padded with black, whatever pad_value says
    if margin:
        np.testing.assert_allclose(image[:, :margin], -1.0, atol=1e-3)
    assert [c.decode() for c in batch["category"].numpy()] == ["sandal", "sandal", "sneaker", "sneaker"]


def test_colored_pipeline_has_color_labels_on_white(fake_dir):
    options = PipelineOptions(image_size=32, batch_size=6, shuffle=False)
    batch = next(iter(fmnist.fmnist_shoes("test", options, colored=True, seed=3, search_dirs=[fake_dir], download=False)))
    assert set(batch) == {"image", "category", "color"}
    assert batch["image"].shape == (6, 32, 32, 3)
    assert np.all(batch["image"].numpy()[:, 0, 0] > 0.95)  # white corners
    colors = [c.decode() for c in batch["color"].numpy()]
    assert set(colors) <= set(COLOR_NAMES) and len(set(colors)) == 6  # balanced: six different colours
    with pytest.raises(ValueError, match="Received: channels=1"):
        fmnist.fmnist_shoes("test", options.replace(channels=1), colored=True, search_dirs=[fake_dir], download=False)


def test_colored_arrays_are_deterministic_per_seed_and_split(fake_dir):
    def colored(split, seed):
        return fmnist.colored_shoe_arrays(split, 16, seed, search_dirs=[fake_dir], download=False)

    first, again, other = colored("train", 0), colored("train", 0), colored("train", 1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    assert list(first[1]) != list(colored("test", 0)[1])  # train and test do not share one colour sequence


def real_fmnist_dirs():
    return [d for d in fmnist.default_search_dirs() if all((d / name).is_file() for names in fmnist.FILES.values() for name in names)]


@pytest.mark.fmnist
@pytest.mark.skipif(not real_fmnist_dirs(), reason="the real Fashion-MNIST files are not installed")
def test_real_fashion_mnist_has_18000_train_and_3000_test_shoes():
    for split, per_class in (("train", 6000), ("test", 1000)):
        images, categories = fmnist.load_shoe_arrays(split, search_dirs=real_fmnist_dirs(), download=False)
        assert images.shape == (3 * per_class, 28, 28)
        assert {name: int((categories == name).sum()) for name in fmnist.CATEGORY_NAMES} == dict.fromkeys(fmnist.CATEGORY_NAMES, per_class)
        assert images[:, 0].mean() < 16 and images.mean() > 40  # light shoes on a black background
