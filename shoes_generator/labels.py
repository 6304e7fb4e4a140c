"""String label vocabularies and their mapping to the integer ids networks take."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import tensorflow as tf


class Vocabularies:
    """Ordered label vocabularies, e.g. ``{"category": [...], "color": [...]}``.

    Args:
        vocabularies: label name -> its values (order defines the ids).
    """

    def __init__(self, vocabularies: Mapping[str, Sequence[str]]):
        self._values = {name: tuple(str(v) for v in values) for name, values in sorted(vocabularies.items())}
        for name, values in self._values.items():
            if not values:
                raise ValueError(f"Vocabulary {name!r} is empty.")
            if len(set(values)) != len(values):
                raise ValueError(f"Vocabulary {name!r} has repeated values. Received: {list(values)}")

    @property
    def names(self) -> tuple[str, ...]:
        """Label names in sorted order."""
        return tuple(self._values)

    @property
    def sizes(self) -> dict[str, int]:
        """Label name -> number of values."""
        return {name: len(values) for name, values in self._values.items()}

    def values(self, name: str) -> tuple[str, ...]:
        """The values of label `name`."""
        return self._values[name]

    def to_dict(self) -> dict[str, list[str]]:
        return {name: list(values) for name, values in self._values.items()}

    def ids(self, name: str, labels: Sequence[str]) -> np.ndarray:
        """NumPy: label strings -> int32 ids; raises ValueError naming unknown values."""
        index = {value: i for i, value in enumerate(self._values[name])}
        unknown = sorted({str(label) for label in labels} - set(index))
        if unknown:
            raise ValueError(f"Unknown {name} value(s) {unknown}. Valid values: {list(self._values[name])}")
        return np.asarray([index[str(label)] for label in labels], dtype=np.int32)

    def lookup_tables(self) -> dict[str, tf.lookup.StaticHashTable]:
        """Label name -> string-to-int32-id table; values outside the vocabulary map to -1."""
        return {
            name: tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(values), tf.range(len(values), dtype=tf.int32), key_dtype=tf.string, value_dtype=tf.int32
                ),
                default_value=-1,
            )
            for name, values in self._values.items()
        }

    def encoder(self):
        """A tf.data-friendly function: batch dict with string labels -> int32 ids.

        Values outside the vocabulary map to -1 (pipelines built from the same
        data never produce them).
        """
        tables = self.lookup_tables()

        def encode(batch):
            batch = dict(batch)
            for name, table in tables.items():
                if name in batch:
                    batch[name] = table.lookup(batch[name])
            return batch

        return encode
