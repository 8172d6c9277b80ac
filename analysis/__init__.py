"""Relationship Health analysis: pure NumPy/SciPy statistics (DESIGN §4). No Flask, no database."""
