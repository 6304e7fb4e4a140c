"""Installs shoes_generator, its command-line tools and their entry points."""

from pathlib import Path

from setuptools import find_packages, setup


def _requirements(name):
    """Pinned requirements of a requirements file, following its ``-r`` includes."""
    found = []
    for line in Path(__file__).with_name(name).read_text().splitlines():
        line = line.strip()
        if line.startswith("-r "):
            found += _requirements(line[3:].strip())
        elif line and not line.startswith("#"):
            found.append(line)
    return found


_CLIENT = _requirements("requirements-client.txt")
_TRAIN = _requirements("requirements.txt")


setup(
    name="shoes_generator",
    version="0.1.0",
    description="Keras 3 / TensorFlow generators that learn to design shoes.",
    long_description=Path(__file__).with_name("README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    classifiers=["License :: OSI Approved :: Apache Software License"],
    python_requires=">=3.10",
    packages=find_packages(include=["shoes_generator*", "data_tools*", "training*", "serving*"]),
    package_data={"serving.studio": ["static/*"]},  # the studio's page, styles and script
    # The bare package is the thin client's code; extras bring what each role needs.
    install_requires=[r for r in _CLIENT if r.startswith(("numpy", "pillow"))],
    extras_require={
        "client": _CLIENT,
        "studio": _requirements("requirements-studio.txt"),
        "train": _TRAIN,
        "test": _requirements("requirements-test.txt"),
    },
    entry_points={
        "console_scripts": [
            "shoes-data = data_tools.cli:main",
            "shoes-train = training.train:main",
            "shoes-eval = training.evaluate:main",
            "shoes-export = serving.export_cli:main",
            "shoes-serve = serving.server.cli:main",
            "shoes-client = serving.client_cli:main",
            "shoes-explore = shoes_generator.explore_cli:main",
            "shoes-generate = shoes_generator.generate:main",
            "shoes-studio = serving.studio.cli:main",
        ]
    },
)
