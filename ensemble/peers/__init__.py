"""Laptops playing one chain: what they say to each other, and to whom (issue #15)."""
