"""Stand-in for the book's ``common`` package (see :mod:`nnlearn.checker.booklayout`)."""
