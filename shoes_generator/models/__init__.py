"""Functional-API network builders, one module per family."""
