"""Randomized exploration of the model with Hypothesis (``sessionspec explore``).

Imports the model and the rules only.
"""
