"""Stand-in for the book's ``dataset`` package (see :mod:`nnlearn.checker.booklayout`)."""
