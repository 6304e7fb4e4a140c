"""Shoe segmentation: per-pixel classes (shoe/background, or shoe parts) with a U-Net or an FCN.

- `data`: Fashion-MNIST shoes with their foreground masks, label folders, tf.data pipelines.
- `models`: `build_unet_segmenter`, `build_fcn_segmenter`, the `ARCHITECTURES` registry.
- `metrics`: confusion matrices, pixel accuracy, IoU, and a Keras mean-IoU metric on logits.
- `train`: `train_segmenter`, `evaluate_segmenter`.
- `export`: `export_segmenter`, a SavedModel answering encoded images with class maps.
"""
