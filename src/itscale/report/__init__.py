"""Report: the paper figures and the numbers table, built from the pipeline's datasets.

Modules: :mod:`~itscale.report.plotting`, :mod:`~itscale.report.table`.
"""
