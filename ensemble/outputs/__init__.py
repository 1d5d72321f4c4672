"""Destinations for what the ensemble plays: the interface, and the table of `--to` destinations."""
