"""Loads every area's figure module, each registering its claims' plot functions by claim id
(:func:`workbench.figures.register_plots`); ``import workbench`` imports this module."""

from . import (  # noqa: F401
    coding,
    cross_entropy,
    deep_linear,
    deep_linear_training,
    double_descent,
    gains,
    initialization,
    lazy_training,
    random_matrices,
    residual,
    sweep,
    wide_networks,
)
