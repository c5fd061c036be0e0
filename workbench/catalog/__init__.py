"""Built-in claims, one module per area of theory; importing registers them."""

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
    implicit_bias,
    information_bottleneck,
    initialization,
    lazy_training,
    lipschitz,
    parity,
    product_gate,
    random_matrices,
    residual,
    wide_networks,
)

AREAS = ("xent", "init", "deeplinear", "residual", "rmt", "huffman", "nngp", "ntk", "double-descent", "depth", "dropout",
         "flat-minima", "parity", "implicit", "ib", "lipschitz", "mup")
