"""Partner Points core: settings, observability, models, logic and dal shared by every function."""

__version__ = "0.1.0"
