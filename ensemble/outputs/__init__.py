"""Destinations for what the ensemble plays, one module each."""
