"""The family registry: typed model sections, old config.json files, and a new family added by one module
that `shoes-train`, `shoes-export` and `shoes-eval` run without a change to the generic code."""

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from serving.export_cli import main as shoes_export
from shoes_generator.configs import PRESETS, ExperimentConfig, ModelConfig, get_preset, override, register_preset
from shoes_generator.families import Family, get_family, register_family, registered_families, unregister_family
from training.evaluate import main as shoes_eval
from training.train import main as shoes_train

LEGACY = Path(__file__).parent / "legacy_configs"  # Written by the flat ModelConfig every run had before families.
LEGACY_PRESETS = {"dcgan": "dcgan64_paper_tiny", "conditional": "cgan_fmnist_color_tiny", "pix2pix": "pix2pix_mask2product_tiny",
                  "cyclegan": "cyclegan_sneaker2boot_tiny", "segmentation": "segment_fmnist_unet_tiny"}


@pytest.mark.parametrize("family", sorted(LEGACY_PRESETS))
def test_an_old_flat_config_json_loads_into_its_familys_own_section(family):
    values = json.loads((LEGACY / f"{family}.json").read_text())
    config = ExperimentConfig.from_dict(values).validate(require_path=False)
    assert type(config.model) is get_family(family).model_config
    assert config.to_dict() == get_preset(LEGACY_PRESETS[family]).to_dict()
    dropped = set(values["model"]) - set(config.to_dict()["model"])
    assert dropped and family != "pix2pix" or {"latent_dim", "resnet_blocks", "embed_dim"} <= dropped


def test_a_family_refuses_settings_of_another():
    with pytest.raises(ValueError, match=r"Unknown setting 'model.latent_dim' \(model settings are 'pix2pix''s\)"):
        override(get_preset("pix2pix_fmnist_edges_tiny"), ["model.latent_dim=8"])
    assert not hasattr(get_preset("pix2pix_fmnist_edges_tiny").model, "resnet_blocks")
    with pytest.raises(ValueError, match="model.family must be one of .*'cyclegan'.*Received: model.family='stylegan9'"):
        override(get_preset("dcgan64_paper_tiny"), ["model.family=stylegan9"])
    with pytest.raises(ValueError, match=r"data.source='pairs' is for \['pix2pix'\]"):
        override(get_preset("dcgan64_paper_tiny"), ["data.source=pairs"])


# ------------------------------------------------------------------ a toy family, registered by a test
@dataclasses.dataclass
class ToyModel(ModelConfig):
    """A one-layer denoiser."""

    family: str = "toy_denoiser"
    filters: int = 4


@keras.saving.register_keras_serializable(package="tests")
class Denoiser(keras.Model):
    """Learns to take noise off an image (any objective does for the registry)."""

    def __init__(self, network, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.step = keras.Variable(0, dtype="int64", trainable=False, name="step")

    def call(self, images, training=False):
        return self.network(images, training=training)

    def build_optimizers(self):
        self.optimizer.build(self.network.trainable_variables)

    def checkpoint_objects(self, optimizers=True):
        return {"step": self.step, "network": self.network, **({"optimizer": self.optimizer} if optimizers else {})}

    def train_step(self, data):
        clean = data["image"]
        noisy = clean + tf.random.stateless_normal(tf.shape(clean), seed=[1, tf.cast(self.step, tf.int32)]) * 0.1
        self.step.assign_add(1)
        return super().train_step((noisy, clean))


class ToyFamily(Family):
    name = "toy_denoiser"
    model_config = ToyModel
    sources = ("fmnist",)

    def build(self, config, vocabularies=None, steps_per_epoch=None):
        size, channels = config.data.image_size, config.data.channels
        inputs = keras.Input((size, size, channels), name="image")
        outputs = keras.layers.Conv2D(channels, 3, padding="same", activation="tanh")(keras.layers.Conv2D(config.model.filters, 3, padding="same")(inputs))
        model = Denoiser(keras.Model(inputs, outputs, name="denoiser"))
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        model.build_optimizers()
        return model

    def sample_callback(self, config, data, run_dir):
        from shoes_generator.callbacks import translation_grid

        return translation_grid(config, data, run_dir, lambda model, x: ([x["image"], model(x["image"])], ["image", "denoised"]))

    def export(self, model, config, vocabularies, path):
        from shoes_generator.export import Route, export_routes

        route = Route(lambda inputs: model.network(inputs["image"], training=False), (("image", config.data.channels),))
        return export_routes({"serving_default": route}, config.data.image_size, path, [model.network])

    def evaluate(self, saved_model, config, options, metrics=()):
        served = tf.saved_model.load(str(saved_model)).signatures["from_pixels"]
        images = np.full((options.samples, 8, 8, 3), 255, np.uint8)
        out = served(image=tf.constant(images))["images"].numpy()
        return {"family": self.name, "examples": len(out), "l1_on_white": float(np.abs(out.astype(float) - 255).mean())}


def toy_preset() -> ExperimentConfig:
    from shoes_generator.configs import DataConfig, TrainConfig

    return ExperimentConfig(name="toy_preset", data=DataConfig(source="fmnist", image_size=16, limit=32), model=ToyModel(),
                            train=TrainConfig(batch_size=4, epochs=2, steps_per_epoch=2, checkpoint_every=1, sample_columns=2, ema_decay=0))


@pytest.fixture
def toy_family():
    register_family(ToyFamily())  # The one registration line a new family's module has.
    register_preset(toy_preset)
    yield
    unregister_family("toy_denoiser")
    PRESETS.pop("toy_preset"), PRESETS.pop("toy_preset_tiny")


@pytest.mark.slow
def test_a_new_family_runs_through_train_export_and_eval_without_generic_changes(toy_family, tmp_path, capsys):
    assert "toy_denoiser" in registered_families()
    assert shoes_train(["--config", "toy_preset", "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    run = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["run"]
    assert (Path(run) / "samples" / "latest.png").is_file() and json.loads((Path(run) / "config.json").read_text())["model"] == {
        "family": "toy_denoiser", "filters": 4}
    assert shoes_train(["--resume", run, "--epochs", "3", "--quiet"]) == 0
    capsys.readouterr()
    assert shoes_export([run, "--model-base", str(tmp_path / "models"), "--model", "toy"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 6
    assert shoes_eval([run, "-n", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["family"] == "toy_denoiser" and report["examples"] == 3 and 0 <= report["l1_on_white"] <= 255
    assert {"serving_default", "from_pixels"} <= set(tf.saved_model.load(str(tmp_path / "models" / "toy" / "1")).signatures)
