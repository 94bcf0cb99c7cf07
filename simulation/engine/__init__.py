"""The plant-data engine: Django-free numpy code (no ORM import anywhere in this package).

A sensor's value is a pure function of (scenario, seed, sensor, time, overlays): any window of the
12 months of history, or a live tick, is computed on demand and is identical however it is asked for.
"""
