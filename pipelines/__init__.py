"""Entry points: `python -m pipelines.run` (the scheduled job) and `python -m pipelines.demo`."""
