"""tf.data pipelines, one module per source; see `pipeline` for the element format.

Import from the modules (`shoes_generator.data.pipeline`, `.folders`, `.paired`, `.unpaired`,
`.tfrecords`, `.fmnist`, `.skips`, ...): the package itself imports nothing, so tools that need
only a light module (`skips`, `manifest`) do not pay for TensorFlow.
"""
