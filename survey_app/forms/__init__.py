"""Forms: the run-time survey form builder and the static forms."""
