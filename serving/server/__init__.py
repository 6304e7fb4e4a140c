"""`shoes-serve`: a local server that speaks TensorFlow Serving's gRPC and REST APIs (needs TensorFlow)."""
