"""Segmentation: metrics on hand-made arrays, both networks, a short fit, flips, export, label folders."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from shoes_generator.data.pipeline import decode_image, fit_image, to_float, to_uint8
from shoes_generator.segmentation.data import label_tree_pairs, segmentation_dataset
from shoes_generator.segmentation.export import export_segmenter, mask_scale
from shoes_generator.segmentation.metrics import MeanIoUFromLogits, confusion_matrix, mean_iou, per_class_iou, pixel_accuracy
from shoes_generator.segmentation.models import ARCHITECTURES
from shoes_generator.segmentation.train import evaluate_segmenter, train_segmenter

SIZE = 16


def rectangles(count: int, size: int = SIZE, seed: int = 0):
    """Coloured rectangles ("shoes") on white and their 0/1 masks."""
    rng = np.random.default_rng(seed)
    images = np.full((count, size, size, 3), 255, np.uint8)
    masks = np.zeros((count, size, size), np.uint8)
    for index in range(count):
        top, left = rng.integers(0, size // 2, 2)
        height, width = rng.integers(size // 4, size // 2, 2)
        images[index, top : top + height, left : left + width] = rng.integers(0, 180, 3)
        masks[index, top : top + height, left : left + width] = 1
    return images, masks


def test_confusion_matrix_and_iou_exact():
    y_true = np.array([[0, 0, 1, 1], [1, 1, 0, 0]])
    y_pred = np.array([[0, 1, 1, 1], [1, 0, 0, 0]])
    cm = confusion_matrix(y_true, y_pred, 3)
    np.testing.assert_array_equal(cm, [[3, 1, 0], [1, 3, 0], [0, 0, 0]])
    # Streaming: per-row matrices add up to the whole.
    np.testing.assert_array_equal(confusion_matrix(y_true[:1], y_pred[:1], 3) + confusion_matrix(y_true[1:], y_pred[1:], 3), cm)
    assert pixel_accuracy(cm) == pytest.approx(6 / 8)
    ious = per_class_iou(cm)
    np.testing.assert_allclose(ious[:2], [3 / 5, 3 / 5])
    assert np.isnan(ious[2])  # Class 2 never occurs: NaN, and left out of the mean.
    assert mean_iou(cm) == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="max=3"):
        confusion_matrix([0, 3], [0, 0], 3)


def test_keras_mean_iou_from_logits_matches_numpy():
    y_true = np.array([[0, 0, 1, 1], [1, 1, 0, 0]])
    y_pred = np.array([[0, 1, 1, 1], [1, 0, 0, 0]])
    metric = MeanIoUFromLogits(3)
    metric.update_state(y_true, np.eye(3, dtype=np.float32)[y_pred] * 5.0)
    assert float(metric.result()) == pytest.approx(mean_iou(confusion_matrix(y_true, y_pred, 3)))


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_architectures_give_logits(architecture):
    model = ARCHITECTURES[architecture](SIZE, 3, base_filters=4)
    assert model.input.name == "image" or model.inputs[0].name == "image"
    logits = model(np.zeros((2, SIZE, SIZE, 3), np.float32))
    assert tuple(logits.shape) == (2, SIZE, SIZE, 3) and logits.dtype == "float32"


def test_builders_name_bad_arguments():
    with pytest.raises(ValueError, match="num_classes=1"):
        ARCHITECTURES["unet"](SIZE, 1)
    with pytest.raises(ValueError, match="image_size=20"):
        ARCHITECTURES["fcn"](20, 2)


def test_flips_keep_image_and_mask_aligned():
    images, masks = rectangles(16)
    flipped = 0
    for batch_images, batch_masks in segmentation_dataset(images, masks, batch_size=4, seed=3):
        shoe = np.asarray(batch_images).min(axis=-1) < 0.99  # Non-white pixels.
        np.testing.assert_array_equal(shoe, np.asarray(batch_masks) == 1)
        assert batch_masks.dtype == tf.int32
        flipped += sum(not any((m == masks).all(axis=(1, 2))) for m in np.asarray(batch_masks))
    assert flipped > 0
    first = [np.asarray(m) for _, m in segmentation_dataset(images, masks, 4, seed=3)]
    again = [np.asarray(m) for _, m in segmentation_dataset(images, masks, 4, seed=3)]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))


@pytest.fixture(scope="module")
def trained_unet():
    images, masks = rectangles(64)
    model, history = train_segmenter("unet", images, masks, 2, epochs=15, batch_size=8, seed=0, model_options={"base_filters": 8})
    return model, history


def test_short_fit_segments_rectangles(trained_unet):
    model, history = trained_unet
    assert {"loss", "pixel_accuracy", "mean_iou"} <= set(history.history)
    images, masks = rectangles(32, seed=1)
    scores = evaluate_segmenter(model, images, masks, 2, batch_size=8)
    assert scores["mean_iou"] > 0.6, scores
    assert set(scores["per_class_iou"]) == {"0", "1"}


def test_export_round_trip(trained_unet, tmp_path):
    model, _ = trained_unet
    path = export_segmenter(model, SIZE, tmp_path / "segmenter", ["background", "shoe"])
    loaded = tf.saved_model.load(str(path))
    assert {"segment", "serving_default", "class_names"} <= set(loaded.signatures)
    buffer = io.BytesIO()
    Image.fromarray(np.full((12, 20, 3), 255, np.uint8)).save(buffer, format="PNG")  # 20 wide, 12 high.
    for name in ("segment", "serving_default"):
        out = loaded.signatures[name](image_bytes=tf.constant([buffer.getvalue()]))
        classes = out["classes"].numpy()
        assert classes.shape == (1, SIZE, SIZE) and classes.dtype == np.uint8
        mask = np.asarray(Image.open(io.BytesIO(out["mask_bytes"].numpy()[0])))
        assert mask.ndim == 2
        np.testing.assert_array_equal(mask, classes[0] * mask_scale(2))
    answered = loaded.signatures["class_names"](class_id=tf.constant([1, 0], tf.int64))
    assert list(answered["name"].numpy()) == [b"shoe", b"background"]
    assert answered["num_classes"].dtype == tf.int64 and answered["num_classes"].numpy().tolist() == [2, 2]  # C in every row.
    with pytest.raises(ValueError, match="class_names"):
        export_segmenter(model, SIZE, tmp_path / "other", ["a", "b", "c"])


def write_label_folder(root, stems, skip_label=None):
    for index, stem in enumerate(stems):
        (root / "image").mkdir(parents=True, exist_ok=True)
        (root / "label").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((10, 12, 3), 40 * index, np.uint8)).save(root / "image" / f"{stem}.png")
        if stem != skip_label:
            label = np.zeros((10, 12), np.uint8)
            label[5:, :6], label[5:, 6:] = 1, 2  # Three classes: background, sole, heel.
            Image.fromarray(label, mode="L").save(root / "label" / f"{stem}.png")


def test_label_tree_pairs(tmp_path):
    write_label_folder(tmp_path / "ok", ["a", "b"])
    images, labels, num_classes = label_tree_pairs(tmp_path / "ok" / "image", tmp_path / "ok" / "label", 8)
    assert images.shape == (2, 8, 8, 3) and labels.shape == (2, 8, 8) and num_classes == 3
    assert set(np.unique(labels)) == {0, 1, 2}  # Nearest-neighbour resizing invents no classes.
    write_label_folder(tmp_path / "bad", ["a", "b"], skip_label="b")
    with pytest.raises(FileNotFoundError, match=r"label[/\\]b\.png"):
        label_tree_pairs(tmp_path / "bad" / "image", tmp_path / "bad" / "label", 8)


def test_wide_pairs_are_fitted_as_the_segment_signature_fits_images(tmp_path):
    image = np.full((12, 24, 3), 255, np.uint8)
    image[:, 6:18] = (200, 30, 30)
    label = np.zeros((12, 24), np.uint8)
    label[:, 6:18] = 1
    for folder in ("images", "labels"):
        (tmp_path / folder).mkdir()
    Image.fromarray(image).save(tmp_path / "images" / "wide.png")
    Image.fromarray(label, mode="L").save(tmp_path / "labels" / "wide.png")
    images, labels, _ = label_tree_pairs(tmp_path / "images", tmp_path / "labels", 16)
    # 24 wide -> 16: 12 high -> 8 rows, padded by 4 white rows (image) and 4 background rows (label) on each side.
    assert (images[0, :4] == 255).all() and (images[0, 12:] == 255).all()
    assert (labels[0, :4] == 0).all() and (labels[0, 12:] == 0).all()
    np.testing.assert_array_equal(labels[0, 4:12].any(axis=0), (np.arange(16) >= 4) & (np.arange(16) < 12))  # Columns 6-18 of 24.
    # The exported signature's own preparation of the same PNG gives the same pixels.
    served = to_uint8(fit_image(to_float(decode_image(tf.io.encode_png(image), 3)), 16, pad_value=1.0)).numpy()
    np.testing.assert_array_equal(images[0], served)
    # Transparent pixels land on white, as the signature decodes them (not on the black a plain RGB conversion gives).
    rgba = np.concatenate([image, np.full((12, 24, 1), 255, np.uint8)], -1)
    rgba[:, :6] = 0  # Transparent black.
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "images" / "wide.png")
    images, _, _ = label_tree_pairs(tmp_path / "images", tmp_path / "labels", 16)
    assert (images[0, 4:12, :3] == 255).all()  # Column 3 blends into the red shoe.
