"""ensemble: a chain of Q-learning agents playing musical telephone, live."""

__version__ = "0.1.0"
