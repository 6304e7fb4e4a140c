"""Image-to-image models behind shoes-serve: a served sketch model answers the same for an image
whatever else shares its batch, and the client's sketch_to_shoe / mask inputs reach it."""

import io
import threading

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from serving.client import ShoesClient
from serving.server.batching import BatchingOptions
from serving.server.model_store import entries_from_base
from shoes_generator.export import Route, export_routes
from shoes_generator.models.unet import build_unet_generator
from tests.serving.helpers import running_server


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def img2img_base(tmp_path_factory):
    base = tmp_path_factory.mktemp("img2img")
    tf.keras.utils.set_random_seed(3)
    sketch = build_unet_generator(16, base_filters=4)  # Instance norm: no batch statistics at inference.
    export_routes({"serving_default": Route(lambda x: sketch(x["image"], training=False))}, 16, base / "sketch" / "1", [sketch])
    masked = build_unet_generator(16, in_channels=4, base_filters=4)
    route = Route(lambda x: masked(tf.concat([x["image"], x["mask"]], -1), training=False), (("image", 3), ("mask", 1)))
    export_routes({"serving_default": route}, 16, base / "product" / "1", [masked])
    return base


def test_an_image_gets_the_same_answer_alone_and_in_any_served_batch(img2img_base):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(6)]
    batching = BatchingOptions(max_batch_size=8, batch_timeout_micros=100_000, num_batch_threads=1)
    with running_server(entries_from_base(img2img_base), batching=batching) as server:
        with ShoesClient(f"127.0.0.1:{server.port}", model="sketch") as client:
            alone = np.asarray(client.sketch_to_shoe(png(images[0])))
            results = {}

            def ask(index):
                results[index] = np.asarray(client.translate(png(images[index])))

            threads = [threading.Thread(target=ask, args=(i,)) for i in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert max(server.batcher.batch_sizes) > 1  # The six really shared batches.
        np.testing.assert_array_equal(results[0], alone)
        direct = client_free_batch(img2img_base, images)
        np.testing.assert_array_equal(direct[0], alone)


def client_free_batch(base, images):
    model = tf.saved_model.load(str(base / "sketch" / "1"))
    return model.signatures["from_pixels"](image=tf.constant(np.stack(images)))["images"].numpy()


def test_a_photo_and_mask_model_is_reached_through_translate(img2img_base):
    photo = np.full((20, 12, 3), 120, np.uint8)
    mask = np.zeros((20, 12), np.uint8)
    mask[4:16, 2:10] = 255
    with running_server(entries_from_base(img2img_base)) as server, ShoesClient(f"127.0.0.1:{server.port}", model="product") as client:
        shot = client.translate(png(photo), mask=png(mask))
        assert shot.size == (16, 16)
        with pytest.raises(Exception, match="mask_bytes"):
            client.translate(png(photo))
