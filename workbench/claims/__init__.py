"""Built-in claims, one module per area of theory; importing registers them."""

from . import cross_entropy, deep_linear, deep_linear_training, initialization  # noqa: F401

AREAS = ("xent", "init", "deeplinear")
