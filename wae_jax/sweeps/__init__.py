"""Sweeps at bigWAE scale: declared as data, packed into populations, run on Ray Tune.

space (declaration and deterministic expansion), packing (members -> population
trials), runner (Ray Tune trials calling train_and_evaluate), report (report.csv,
report.md and plots from the workdir). `python -m wae_jax.sweep` is the command line.
"""
