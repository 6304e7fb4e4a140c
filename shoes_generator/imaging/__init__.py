"""NumPy/Pillow image utilities shared by the data pipelines and the dataset tools."""
