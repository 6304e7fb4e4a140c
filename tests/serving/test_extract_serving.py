"""`extract` end to end: a trained `segment_fmnist_unet_tiny` shoe segmenter and a trained `pix2pix_mask2product_tiny`
model, published by shoes-export and served by one shoes-serve; the thin clients (gRPC, REST) and `shoes-client extract`
chain them (the segmenter's mask, then photo + mask -> product shot) and give the SavedModels' own answers."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from serving.client import RestClient, ShoesClient, encode_image
from serving.client_cli import main as shoes_client
from serving.export_cli import main as shoes_export
from serving.server.model_store import entries_from_base
from shoes_generator.configs import get_preset, override
from shoes_generator.trainer import train
from tests.harness import fake_triplets, shoe_image
from tests.serving.helpers import running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_base(tmp_path_factory):
    """``segmenter/1`` and ``mask2product/1``, each trained for its tiny preset's 4 steps and published by shoes-export."""
    root = tmp_path_factory.mktemp("extract")
    base = root / "models"
    triplets = fake_triplets(root / "triplets")
    runs = {
        "segmenter": get_preset("segment_fmnist_unet_tiny"),
        "mask2product": override(get_preset("pix2pix_mask2product_tiny"),
                                 [f"data.path={triplets}", "train.batch_size=2", "train.sample_columns=2"]),
    }
    for name, config in runs.items():
        run_dir = train(config, out=root / "runs" / name, verbose=0).run_dir
        assert shoes_export([str(run_dir), "--model-base", str(base), "--model", name]) == 0
    return base


def expected_extract(base, photo: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``(mask, product)`` from the SavedModels themselves: the segment signature's classes != 0, then serving_default."""
    segmenter = tf.saved_model.load(str(base / "segmenter" / "1"))
    classes = segmenter.signatures["segment"](image_bytes=tf.constant([photo]))["classes"].numpy()[0]
    mask = np.where(classes != 0, 255, 0).astype(np.uint8)
    translator = tf.saved_model.load(str(base / "mask2product" / "1"))
    product = translator.signatures["serving_default"](image_bytes=tf.constant([photo]), mask_bytes=tf.constant([encode_image(Image.fromarray(mask))]))
    return mask, product["images"].numpy()[0]


def test_extract_chains_the_served_segmenter_and_photo_mask_model(model_base, tmp_path, capsys):
    photo = shoe_image(24, color=(30, 90, 200), width=20)  # Not square: both models fit it to their square.
    photo.save(tmp_path / "photo.png")
    mask, product = expected_extract(model_base, (tmp_path / "photo.png").read_bytes())
    assert 0 < np.mean(mask > 0) < 1  # The segmenter found a shoe and a background.
    with running_server(entries_from_base(model_base)) as server:
        with ShoesClient(f"127.0.0.1:{server.port}", model="mask2product") as grpc_client:
            grpc_mask, grpc_product = grpc_client.extract(tmp_path / "photo.png")  # --segmenter's default: "segmenter".
        with RestClient(f"http://127.0.0.1:{server.rest_port}", model="mask2product") as rest_client:
            rest_mask, rest_product = rest_client.extract(photo, segmenter="segmenter")
        for got_mask, got_product in ((grpc_mask, grpc_product), (rest_mask, rest_product)):
            assert got_mask.mode == "L" and got_product.size == (16, 16)
            np.testing.assert_array_equal(np.asarray(got_mask), mask)
            np.testing.assert_array_equal(np.asarray(got_product.convert("RGB")), product)
        capsys.readouterr()
        argv = ["--server", f"127.0.0.1:{server.port}", "--model", "mask2product", "extract", str(tmp_path / "photo.png"),
                "-o", str(tmp_path / "shot")]
        assert shoes_client(argv) == 0
        summary = json.loads(capsys.readouterr().out)
        assert shoes_client([*argv[:-2], "--segmenter", "nope", "-o", str(tmp_path / "none")]) == 1
        error = capsys.readouterr().err
    assert summary["segmenter"] == "segmenter" and summary["shoe_share"] == round(float(np.mean(mask > 0)), 4)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "shot" / "mask.png")), mask)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "shot" / "product.png").convert("RGB")), product)
    assert error.startswith("shoes-client: error: NOT_FOUND: ") and "nope" in error and not (tmp_path / "none").exists()
