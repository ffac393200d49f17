"""Measuring 1:1 matching: pair protocols, error rates, plots and reports."""
