"""Stand-in for the book's ``dataset`` package (see :mod:`nnlearn.check.booklayout`)."""
