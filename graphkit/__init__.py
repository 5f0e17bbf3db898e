"""graphkit: graph learning on one fast sparse scatter/gather core.

Layers: ``graphkit.ops`` (sparse compute) <- ``graphkit.nn`` (layers) <- models <- train <- cli.
"""
__version__ = "0.1.0"
