"""``python -m itscale``: the itscale command line (see :mod:`itscale.empirical.cli`)."""

import sys

from itscale.empirical.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
