"""Thin training entry points (arrive with the GAN issue)."""
