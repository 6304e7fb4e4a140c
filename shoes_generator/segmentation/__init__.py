"""Shoe segmentation: per-pixel classes (shoe/background, or shoe parts) with a U-Net or an FCN.

- `data`: Fashion-MNIST shoes with their foreground masks, label folders (a stable held-out
  tenth), `segmentation_arrays` by a `DataConfig`, tf.data pipelines.
- `models`: `build_unet_segmenter`, `build_fcn_segmenter`, the `ARCHITECTURES` registry.
- `segmenter`: `Segmenter`, the `keras.Model` the run trainer fits (`shoes-train` presets).
- `metrics`: confusion matrices, pixel accuracy, IoU, and a Keras mean-IoU metric on logits.
- `train`: `train_segmenter`, `evaluate_segmenter` on in-memory arrays.
- `evaluate`: held-out scores of an exported segmenter through its ``segment`` signature (`shoes-eval`).
- `export`: `export_segmenter`, a SavedModel answering encoded images with class maps.
"""
