"""One check for every family: a run killed after epoch 1 and resumed ends with the weights of an uninterrupted run."""

import numpy as np

from shoes_generator.configs import override
from shoes_generator.trainer import train


def assert_resume_matches_straight_run(config, tmp_path, network: str) -> None:
    """Trains `config` (2 epochs) straight, and 1 epoch then resumed to 2; compares the `network` weights.

    Args:
        config: a 2-epoch experiment that checkpoints inside its epochs.
        tmp_path: where both runs go.
        network: the trained model's attribute holding the network compared (e.g. "generator").
    """
    straight = train(config, out=tmp_path / "a", verbose=0)
    first = train(override(config, ["train.epochs=1"]), out=tmp_path / "b", verbose=0)
    resumed = train(resume=first.run_dir, epochs=2, verbose=0)
    assert resumed.step == straight.step
    for mine, theirs in zip(getattr(resumed.gan, network).weights, getattr(straight.gan, network).weights):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-5)
