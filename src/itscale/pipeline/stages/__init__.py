"""Stage functions: each builds one stage's dataset from its inputs, without Snakemake.

One module per stage; each function takes the job's resolved parameters (a plain dict, see
:mod:`itscale.pipeline.params`) and its input datasets, and returns the output dataset with
its layout, CF attributes and provenance. The workflow scripts only read, call and write, so
a stage can be run and tested from Python:

==================  =========================================================================
stage               function
==================  =========================================================================
data                :func:`itscale.pipeline.stages.data.build`
posterior           :func:`itscale.pipeline.stages.posterior.build`
finite_size         :func:`itscale.pipeline.stages.finite_size.build`
sampling (shard)    :func:`itscale.pipeline.stages.sampling.shard`
sampling (gather)   :func:`itscale.pipeline.stages.sampling.gather`
theory              :func:`itscale.pipeline.stages.theory.build`
records             :func:`itscale.pipeline.stages.records.build` (judge data: ingest)
judges              :func:`itscale.pipeline.stages.judges.build` (judge data: analysis)
judge_figure        :func:`itscale.pipeline.stages.judge_figure.render`
figure              :func:`itscale.pipeline.stages.figure.render`
numbers             :func:`itscale.pipeline.stages.numbers.build`
publish             :func:`itscale.pipeline.stages.publish.publish`
==================  =========================================================================

This package imports none of its modules, so a rule's module inputs
(:func:`itscale.pipeline.modules.module_files`) hold only what its own stage imports.
"""

__all__: list[str] = []
