"""graphkit: graph learning on one fast sparse scatter/gather core.

Layers: ``graphkit.ops`` (sparse compute) <- ``graphkit.nn`` (layers) <- models <- train <- cli.
"""
__version__ = "0.1.0"


def load(path, device="cpu", run=None, build=None):
    """A trained model back from a run folder (see :func:`graphkit.train.saved.load`)."""
    from graphkit.train.saved import load as _load

    return _load(path, device, run, build)
