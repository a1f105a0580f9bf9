"""Runnable stories: each seed article's example, built on glassgrad. `python -m demos.NAME`."""
