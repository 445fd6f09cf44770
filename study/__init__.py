"""Search over the trainer's knobs with Ray Tune and Optuna; the `banditune` command line."""
