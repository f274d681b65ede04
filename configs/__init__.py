"""Experiment configs: `get_config(arg)` per file, shared base and shrinkers in common.py."""
