"""Example apps and the ``make demo`` script."""
