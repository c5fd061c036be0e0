"""Loads every area's figure module, each registering its claims' plot functions by claim id
(:func:`workbench.figures.register_plots`); ``import workbench`` imports this module."""

from . import (  # noqa: F401
    coding,
    cross_entropy,
    deep_linear,
    deep_linear_training,
    depth,
    double_descent,
    dropout,
    feature_learning,
    flat_minima,
    gains,
    implicit_bias,
    information_bottleneck,
    initialization,
    lazy_training,
    lipschitz,
    parity,
    product_gate,
    random_matrices,
    residual,
    sweep,
    wide_networks,
)
