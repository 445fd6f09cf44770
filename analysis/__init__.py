"""Answer the study's question from its Parquet dataset: which settings are above the threshold.

Reads Parquet only (never Ray, never the trainer). Entry points: `analysis.analyze.analyze` and the
`banditune analyze` subcommand (`cli/analyze.py`). Heavy imports stay inside the modules so
that importing this package is cheap.
"""
