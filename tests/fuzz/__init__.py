"""Fuzz targets, run by hand or by ``make fuzz``, never by pytest (see docs/reliability.md)."""
