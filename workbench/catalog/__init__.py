"""Built-in claims, one module per area of theory; importing registers them."""

from . import (  # noqa: F401
    coding,
    cross_entropy,
    deep_linear,
    deep_linear_training,
    double_descent,
    initialization,
    lazy_training,
    random_matrices,
    residual,
    wide_networks,
)

AREAS = ("xent", "init", "deeplinear", "residual", "rmt", "huffman", "nngp", "ntk", "double-descent")
