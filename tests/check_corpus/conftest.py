"""The corpus holds reader files for `nnlearn check`, not tests: pytest must never import them (some
have syntax errors on purpose, some train for minutes at import, some call sys.exit())."""

collect_ignore_glob = ["*"]
