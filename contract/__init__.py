"""The results contract: what a study folder holds and what every Parquet column means.

The writers (study: search, reference, confirm, diagnose) and the reader (analysis) import these
objects instead of restating them. Nothing here imports torch, Ray or the trainer.
"""
