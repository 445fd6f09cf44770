"""The `banditune` command line: one module per subcommand (its options, checks and printing).

The work lives in packages named for what it does: trainable, study, experiments, analysis.
"""
