"""`shoes-data`: dataset preparation commands."""
