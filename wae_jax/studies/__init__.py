"""Studies: multi-run experiments built on the library and the trainer's steps."""
