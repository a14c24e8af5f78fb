"""Pipeline: what the Snakemake workflow calls, from the config to each stage's dataset.

Modules: :mod:`~itscale.pipeline.schema` (config validation), :mod:`~itscale.pipeline.params`
(stage parameters and content keys), :mod:`~itscale.pipeline.plan` (the job plan and the
rules' paths; :mod:`~itscale.pipeline.judge_data` adds the judge-data experiments' jobs),
:mod:`~itscale.pipeline.resources` (memory, runtime, shards),
:mod:`~itscale.pipeline.modules` (the rules' module inputs), :mod:`~itscale.pipeline.datasets`
(NetCDF I/O and provenance), :mod:`~itscale.pipeline.job` (the workflow scripts' plumbing),
and :mod:`itscale.pipeline.stages`, one function per stage. :mod:`~itscale.pipeline.config`
re-exports the names of the former single module.
"""

__all__: list[str] = []
