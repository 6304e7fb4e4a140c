"""tf.data pipelines, one module per source; see `pipeline` for the element format."""

from shoes_generator.data.pipeline import PipelineOptions, batch_pipeline, fit_image, to_float, to_uint8
from shoes_generator.data.skips import SkipReport
