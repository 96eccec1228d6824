"""Real datasets, downloaded once and cached: ``from nn.datasets import mnist``."""
from . import mnist

__all__ = ["mnist"]
