"""shoes_generator: Keras 3 / TensorFlow generators that learn to design shoes."""

__version__ = "0.1.0"
