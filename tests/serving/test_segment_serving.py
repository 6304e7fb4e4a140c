"""A segmenter behind shoes-serve: the thin client's segment() over gRPC and REST, and shoes-client segment."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from serving.client import ShoesClient
from serving.client_cli import main as shoes_client
from serving.rest_client import RestClient
from serving.server.model_store import entries_from_base
from shoes_generator.imaging.palette import class_colors
from shoes_generator.segmentation.export import export_segmenter
from shoes_generator.segmentation.models import build_fcn_segmenter
from tests.harness import shoe_image
from tests.serving.helpers import running_server

SIZE = 16


@pytest.fixture(scope="module")
def segmenter_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("segmenter")
    tf.keras.utils.set_random_seed(0)
    network = build_fcn_segmenter(SIZE, 3, base_filters=4)
    export_segmenter(network, SIZE, base / "segmenter" / "1", ["background", "sole", "upper"])
    return base


def test_segment_over_grpc_and_rest_matches_the_saved_model(segmenter_base, tmp_path, capsys):
    photo = shoe_image(24, width=40)  # Not square: the model fits it to its square.
    photo.save(tmp_path / "photo.png")
    direct = tf.saved_model.load(str(segmenter_base / "segmenter" / "1")).signatures["segment"]
    expected = direct(image_bytes=tf.constant([(tmp_path / "photo.png").read_bytes()]))["classes"].numpy()[0]
    with running_server(entries_from_base(segmenter_base)) as server:
        with ShoesClient(f"127.0.0.1:{server.port}", model="segmenter") as grpc_client:
            classes, names = grpc_client.segment(tmp_path / "photo.png")
        with RestClient(f"http://127.0.0.1:{server.rest_port}", model="segmenter") as rest_client:
            rest_classes, rest_names = rest_client.segment(photo)
        np.testing.assert_array_equal(classes, expected)
        np.testing.assert_array_equal(rest_classes, expected)
        assert classes.shape == (SIZE, SIZE) and classes.dtype == np.uint8
        assert names == rest_names and set(names) == set(np.unique(expected).tolist())
        assert set(names.values()) <= {"background", "sole", "upper"}
        capsys.readouterr()
        argv = ["--target", f"127.0.0.1:{server.port}", "--model", "segmenter", "segment", str(tmp_path / "photo.png"),
                "-o", str(tmp_path / "out" / "mask.png")]
        assert shoes_client(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert abs(sum(summary["class_shares"].values()) - 1.0) < 1e-3
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "mask.png")), class_colors(expected))
