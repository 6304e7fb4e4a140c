"""Measuring generators: a project-trained shoe classifier, Frechet distance, conditional accuracy."""
