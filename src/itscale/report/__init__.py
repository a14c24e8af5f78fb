"""Report: the paper figures and the numbers table, drawn from the pipeline's datasets.

Modules: :mod:`~itscale.report.style` (palette, rcParams, figure creation, deterministic
saving), :mod:`~itscale.report.draw` (drawing helpers shared by the kinds),
:mod:`~itscale.report.summaries` (dataset reductions and fits shared by figures and table),
:mod:`~itscale.report.table` (the numbers table), :mod:`~itscale.report.judges` (the
judge-data experiments' rows of it), and :mod:`~itscale.report.kinds`, one
module per figure kind (its size, theory request, plot and table rows) found by a registry.
Nothing here computes theory: the theory stage writes every curve and optimum the figures
show, and the finite-size stage the DE theory at the fitted training sets' difficulties.
matplotlib is imported only when a figure is drawn (not by style, draw or the kinds at
import), because the job plan reads the kinds' declarations.
"""

__all__: list[str] = []
