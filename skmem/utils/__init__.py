"""Utilities for people who build on skmem (see :mod:`skmem.utils.estimator_checks`)."""
