"""tf.data pipelines, one module per source; see `pipeline` for the element format."""

from shoes_generator.data.pipeline import PipelineOptions, batch_pipeline, fit_image, to_float, to_uint8
from shoes_generator.data.skips import SkipReport
from shoes_generator.data.folders import EmptySelectionError, ImageTable, folder_dataset, folder_table, zappos_table
from shoes_generator.data.paired import pair_dataset, pair_table, triplet_dataset, triplet_table
from shoes_generator.data.tfrecords import read_info, tfrecord_dataset, write_tfrecords
from shoes_generator.data.unpaired import fmnist_domain, parse_filter, select_domain, table_unpaired_dataset, unpaired_dataset
