"""Muang: a Thai/English question-answering assistant over smart-city documents.

Importing this package is cheap: heavy libraries (chromadb, langchain, torch, the embedders)
are imported inside the functions that need them.
"""

__version__ = "0.1.0"
