"""genwatt's version: one literal, read by the package root, the store and pyproject.

A module of its own so that modules deep in the package can stamp results with the
version without importing the package root (which names them lazily: an import circle).
"""

__version__ = "0.1.0"
