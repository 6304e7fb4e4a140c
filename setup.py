"""Installs shoes_generator, its command-line tools and their entry points."""

from pathlib import Path

from setuptools import find_packages, setup


def _requirements(name):
    lines = Path(__file__).with_name(name).read_text().splitlines()
    return [line for line in lines if line and not line.startswith(("#", "-r"))]


setup(
    name="shoes_generator",
    version="0.1.0",
    description="Keras 3 / TensorFlow generators that learn to design shoes.",
    long_description=Path(__file__).with_name("README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["shoes_generator*", "data_tools*", "training*", "serving*"]),
    install_requires=_requirements("requirements.txt"),
    extras_require={"test": _requirements("requirements-test.txt")},
    entry_points={
        "console_scripts": [
            "shoes-data = data_tools.cli:main",
            "shoes-train = training.train:main",
            "shoes-eval = training.evaluate:main",
        ]
    },
)
