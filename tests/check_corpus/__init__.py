"""Reader files for `nnlearn check` (see conftest.py: pytest never imports them)."""
