"""Datasets: TFRecord writing and `tf.data` loading, and the embedded default data."""
