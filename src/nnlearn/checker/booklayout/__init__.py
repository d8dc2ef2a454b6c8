"""The book's module layout, for the reader's file inside ``nnlearn check`` only.

The book's scripts import ``common.functions``, ``common.gradient`` and ``dataset.mnist`` from the
folder above theirs (``sys.path.append(os.pardir)``). When a reader's file imports one of them and
it is not there, the check's child process serves these stand-ins instead, built on nnlearn's own
functions (:mod:`nnlearn.checker.standin`), and the report says so. They are never on the user's
``sys.path``: outside that child process ``import common`` finds nothing of nnlearn's.
"""
