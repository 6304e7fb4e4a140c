"""Discovery reads what a model can do from its signatures (never its name), lists a model base without
TensorFlow, and directions load as shoes-explore writes them."""

import json

import numpy as np
import pytest

from serving.studio.directions import load_direction
from serving.studio.discovery import Catalog, ModelInfo, abilities, model_base_names


def signatures(**inputs_by_signature) -> dict:
    """Signature name -> {"inputs": {name: {"dtype", "shape"}}} from ``name="a,b"`` keywords."""
    return {name: {"method_name": "", "outputs": {}, "inputs": {i: {"dtype": "DT_STRING", "shape": [-1]} for i in names.split(",") if i}}
            for name, names in inputs_by_signature.items()}


@pytest.mark.parametrize("found, expected", [
    (signatures(serving_default="seed,color,category", truncated="seed,color,category,truncation", from_latent="z,color", labels="name"),
     {"generate", "latent_z"}),
    (signatures(serving_default="seed,color", mapping="seed", synthesis="w", mix="seed,style_seed,crossover", invert="image_bytes", labels="name"),
     {"generate", "latent_w", "mix", "invert"}),
    (signatures(serving_default="image_bytes", from_pixels="image"), {"sketch"}),
    (signatures(serving_default="image_bytes", b_to_a="image_bytes", blend="image_bytes,alpha"), {"translate"}),
    (signatures(serving_default="image_bytes,mask_bytes"), set()),  # photo + mask: no tab of its own
    (signatures(serving_default="label_map_bytes,seed", with_style="label_map_bytes,seed,style_bytes", class_names="class_id"), {"spade"}),
    (signatures(serving_default="image_bytes", segment="image_bytes", class_names="class_id"), {"parts"}),
    (signatures(serving_default="pattern_bytes,category,seed", with_sketch="pattern_bytes,image_bytes", labels="name"), {"pattern"}),
])
def test_abilities_come_from_the_signatures(found, expected):
    assert abilities(found) == expected


def test_a_translators_design_languages_come_from_its_name_when_it_spells_them():
    assert ModelInfo("sneaker2boot", 1, {}, {}).domains == ("sneaker", "boot")
    assert ModelInfo("nike_to_adidas", 1, {}, {}).domains == ("nike", "adidas")
    assert ModelInfo("brands", 1, {}, {}).domains == ("A", "B")


def test_a_model_that_cannot_do_it_names_those_that_can():
    catalog = Catalog(up=True, models={"shoes": ModelInfo("shoes", 1, signatures(serving_default="seed,color"), {})},
                      missing={"stylegan": "NOT_FOUND: no such model"})
    assert catalog.model("shoes", "generate").name == "shoes"
    with pytest.raises(LookupError, match=r"The model 'stylegan' is not served \(NOT_FOUND: no such model\). Served models that can: none"):
        catalog.model("stylegan", "mix")
    with pytest.raises(LookupError, match="The model 'shoes' has no mix signatures"):
        catalog.model("shoes", "mix")


def test_a_model_base_lists_the_folders_with_a_numbered_version(tmp_path):
    for folder in ("shoes/1", "shoes/2", "sketch/3", "empty", ".hidden/1", "notes/readme"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "file.txt").write_text("x")
    assert model_base_names(tmp_path) == ["shoes", "sketch"]
    with pytest.raises(FileNotFoundError, match="--model-base must be a folder"):
        model_base_names(tmp_path / "nowhere")


def write(folder, info: dict, vector) -> None:
    folder.mkdir()
    (folder / "direction.json").write_text(json.dumps(info))
    np.save(folder / "direction.npy", np.asarray(vector, np.float32))


def test_a_direction_loads_from_its_folder_or_json_and_fits_its_latent_space(tmp_path):
    write(tmp_path / "height", {"attribute": "height", "latent_space": "w", "latent_dim": 3, "strength_unit": 0.4, "strengths": [-2, 0, 2]}, [0, 1, 0])
    direction = load_direction(f"stylegan={tmp_path / 'height' / 'direction.json'}")
    assert (direction.name, direction.space, direction.unit, direction.limit, direction.model) == ("height", "w", 0.4, 2.0, "stylegan")
    w_model = ModelInfo("stylegan", 1, signatures(mapping="seed", synthesis="w"), {})
    w_model.signatures["synthesis"]["inputs"]["w"]["shape"] = [-1, 6, 3]
    assert direction.fits(w_model) and not direction.fits(ModelInfo("other", 1, w_model.signatures, {}))
    assert load_direction(str(tmp_path / "height")).fits(ModelInfo("other", 1, w_model.signatures, {}))


@pytest.mark.parametrize("info, vector, message", [
    ({"latent_space": "q", "latent_dim": 2}, [1, 0], "has latent_space 'q'"),
    ({"latent_space": "z", "latent_dim": 3}, [1, 0], "holds 2 numbers; .* says latent_dim 3"),
    ({"latent_space": "z", "latent_dim": 2}, [0, 0], "is all zero: shoes-explore found no direction"),
])
def test_a_direction_that_is_not_one_says_why(tmp_path, info, vector, message):
    write(tmp_path / "d", info, vector)
    with pytest.raises(ValueError, match=message):
        load_direction(str(tmp_path / "d"))


class FakeClient:
    """A thin client of a server whose models have the given signatures (`labels` raises for ``"broken"``)."""

    def __init__(self, served: dict, model: str = ""):
        self.served, self.model = served, model

    def for_model(self, name):
        return FakeClient(self.served, name)

    def metadata(self):
        if self.model not in self.served:
            from serving.client import ServingError

            raise ServingError("NOT_FOUND", f"Servable not found for request: Latest({self.model})")
        return self.served[self.model]

    def labels(self):
        if self.model == "broken":
            raise KeyError("values")
        return {}

    def status(self):
        return [{"version": 3, "state": "AVAILABLE"}]


def test_a_model_the_studio_cannot_read_is_listed_as_missing_and_the_others_still_work():
    from serving.studio.discovery import discover

    served = {"shoes": signatures(serving_default="seed,color"),
              "odd": signatures(serving_default="seed", mapping="seed", synthesis="w"),  # w [-1]: no layer axis
              "broken": signatures(serving_default="seed,color", labels="name")}
    catalog = discover(FakeClient(served), ["shoes", "odd", "broken", "gone"])
    assert catalog.up and list(catalog.models) == ["shoes"] and catalog.models["shoes"].version == 3
    assert catalog.missing["gone"].startswith("NOT_FOUND")
    assert catalog.missing["odd"].startswith("its signatures are not ones the studio can use (IndexError")
    assert catalog.missing["broken"] == "its signatures are not ones the studio can use (KeyError: 'values')"
