"""Pipeline: config validation, the job plan and resources, and labelled NetCDF dataset I/O.

Modules: :mod:`~itscale.pipeline.config`, :mod:`~itscale.pipeline.datasets`.
"""
