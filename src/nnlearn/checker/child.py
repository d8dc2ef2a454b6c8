"""The check's child process: runs the reader's code, and nothing else, on the parent's request.

Started by :mod:`.remote` as ``python -c BOOT IN OUT``, it answers each JSON line read on IN with one
JSON line on OUT carrying the request's ``id``: ``load`` a file, ``call`` a name, read or write an
attribute, and the few operations that stand the book's code in for a failing function. It decides
nothing: the verdicts are made in the parent, and what this process sends back is plain values.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import signal
import sys
import traceback
import types
from functools import partial

import numpy as np

from nnlearn.checker.names import CLASSES, code_owner, find, find_method, referenced_names, rows_of
from nnlearn.checker.probes.isolation import REFERENCES, book_cross_entropy_error, book_predict
from nnlearn.checker.sandbox import Files, Sandbox, is_system_file
from nnlearn.checker.standin import install, used
from nnlearn.checker.targets import TARGETS, weighted_square
from nnlearn.checker.toplevel import RUN_ALONE, JobEnvironment, closing_notes, definitions_only, run_top_level
from nnlearn.checker.wire import Function, ReaderError, Timeout, WireError, decode, encode, ending

#: Positional parameters of a function said to the parent (the book's have at most four).
MAX_PARAMETERS = 8


#: Whether each file runs in a process of its own, forked from this one (NumPy and nnlearn already
#: imported): one file's code cannot then change what another's is judged by. Linux only, where forking
#: a process that has loaded NumPy is safe.
FORK = hasattr(os, "fork") and sys.platform.startswith("linux")


def main() -> None:
    requests = os.fdopen(int(sys.argv[1]), "rb")
    replies = os.fdopen(int(sys.argv[2]), "w", encoding="utf-8")
    sys.stdin = io.StringIO("")  # input() in the reader's file reads nothing, and says so (EOFError)
    install()
    server = Server(list(sys.path))
    send(replies, {"id": 0, "ready": True, "fork": FORK})
    for line in requests:
        request = json.loads(line)
        if request["op"] == "load" and FORK:
            worker = os.fork()
            if worker == 0:
                serve(server, request, requests, replies)  # never returns
            _, status = os.waitpid(worker, 0)
            # This process never ran the reader's code; it says how the file's process ended, and waits
            # for the next file.
            send(replies, {"id": 0, "worker": ending(os.waitstatus_to_exitcode(status))})
            continue
        answer(server, request, replies)
    # The parent ends this process (and anything the reader's code started) when it is done.


def send(replies, message: dict) -> None:
    replies.write(json.dumps(message) + "\n")
    replies.flush()


def answer(server, request: dict, replies) -> None:
    try:
        reply = server.handle(request)
    except BaseException:  # noqa: BLE001 -- a bug of the checker, or the reader's code broke it: said, then ended
        reply = {"internal": traceback.format_exc(limit=-3)[-2000:]}
    send(replies, {"id": request["id"], **reply})


def serve(server, load: dict, requests, replies) -> None:
    """The process of one file: its top level, then the parent's requests, until ``end``; it never returns."""
    try:
        answer(server, load, replies)
        for line in requests:
            request = json.loads(line)
            if request["op"] == "end":
                send(replies, {"id": request["id"], "ok": True})
                break
            answer(server, request, replies)
    finally:  # ended at once: nothing of the reader's (an atexit handler, a finalizer) runs after the last row
        os.kill(os.getpid(), signal.SIGKILL)


def origin(obj, spelling: str, files: Files) -> dict:
    """Whose code ``obj`` is: ``{"yours": True}``, or where it was imported from."""
    target = obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj)
    for module_name in used():
        if getattr(sys.modules.get(module_name), spelling, None) is obj:
            return {"yours": False, "module": module_name, "standin": True}
    filenames = []
    if inspect.isclass(target):
        filenames = [f.__code__.co_filename for f in vars(target).values() if hasattr(f, "__code__")]
        module = sys.modules.get(target.__module__)
        filenames.append(getattr(module, "__file__", None) or "")
    elif hasattr(target, "__code__"):
        filenames = [target.__code__.co_filename]
    if any(isinstance(f, str) and f and files.is_reader(f) for f in filenames):
        return {"yours": True}
    module = getattr(target, "__module__", None) or type(obj).__name__
    return {"yours": False, "module": str(module)[:200], "standin": False}


def _plain(notes: list) -> list:
    return json.loads(json.dumps(notes, default=str))


def parameters(fn) -> list:
    """The names of a plain function's positional parameters, read from its code (no code of the
    reader's runs), so that a fix can be shown in them; [] for anything else."""
    code = fn.__code__ if type(fn) is types.FunctionType else None
    if code is None:
        return []
    return [str(n) for n in code.co_varnames[: code.co_posonlyargcount + code.co_argcount]][:MAX_PARAMETERS]


def _readers(fn) -> bool:
    filename = getattr(getattr(fn, "__code__", None), "co_filename", "")
    return bool(filename) and not is_system_file(filename)


def reachable(fn, cls=None, stop=frozenset(), depth: int = 8) -> list:
    """The reader's plain functions that ``fn`` calls, at any depth, ``fn``'s own first: the functions
    its globals name and, for a method of ``cls``, the class's methods it names (``self.predict``).
    A method whose name is in ``stop`` is not followed (it is stood in for as a whole)."""
    out, seen = [], set()
    todo = [(code_owner(fn), depth)]
    while todo:
        owner, left = todo.pop(0)
        if owner is None or id(owner) in seen:
            continue
        seen.add(id(owner))
        out.append(owner)
        if left == 0:
            continue
        for name in sorted(referenced_names(owner)):
            target = owner.__globals__.get(name)
            if inspect.isfunction(target) and _readers(target):
                todo.append((target, left - 1))
            method = inspect.getattr_static(cls, name, None) if cls is not None and name not in stop else None
            if inspect.isfunction(method) and _readers(method):
                todo.append((method, left - 1))
    return out


class Server:
    """The state of the child between requests: the file loaded, and the reader's objects by handle."""

    def __init__(self, base_path: list):
        self.base_path = base_path
        self.environment = None
        self.sandbox = None
        self.job = None
        self.namespace = None
        self.objects: dict[int, object] = {}
        self.swaps: dict[int, list] = {}

    def handle(self, request: dict) -> dict:
        op = request["op"]
        if op == "warm":  # pyplot's first import takes seconds on a busy machine, and is not the reader's code
            with contextlib.suppress(ImportError):
                import matplotlib.pyplot  # noqa: F401
            return {"ok": True}
        if op == "load":
            return self.load(request)
        if op == "definitions":  # each runs under its own limit
            return self.definitions()
        if op == "end":  # without a process per file: the next file's load puts the folder back
            return {"ok": True}
        try:
            if op == "call":  # its arguments are bound outside the limit, the call inside
                return self.op_call(request)
            # the others touch the reader's objects (a class's __getattr__, a property) under the same limit
            return self.sandbox.run(lambda: getattr(self, "op_" + op)(request), self.sandbox.timeout)
        except Timeout as exc:
            return {"timeout": {"seconds": exc.seconds, "where": exc.where}}
        except ReaderError as exc:
            return {"error": {"kind": exc.kind, "text": exc.text, "where": exc.where, "signature": exc.signature}}

    # -- objects ---------------------------------------------------------------------------------------

    def register(self, obj) -> int:
        handle = len(self.objects) + 1
        self.objects[handle] = obj
        return handle

    def resolve(self, tag: str, fields):
        if tag == "$o":
            if fields[0] not in self.objects:
                raise WireError("an unknown handle")
            return self.objects[fields[0]]
        name, arg = fields
        return TARGETS[name] if arg is None else Function(name, arg)  # built once the arguments are decoded

    def arguments(self, request: dict):
        args = [decode(a, self.resolve) for a in request.get("args", [])]
        kwargs = {k: decode(v, self.resolve) for k, v in request.get("kwargs", {}).items()}
        for a in (*args, *kwargs.values()):
            if isinstance(a, np.ndarray):
                a.flags.writeable = True  # the call's own copy, as the book's caller would pass it
        for i, a in enumerate(args):  # the one function over another argument of the same call
            if isinstance(a, Function):
                args[i] = weighted_square(args[a.arg])
        return args, kwargs

    # -- operations ------------------------------------------------------------------------------------

    def load(self, request: dict) -> dict:
        """Run a file's top level and name the chapter's names it defines."""
        if self.environment is not None:
            self.environment.__exit__(None, None, None)
        self.objects.clear()
        self.swaps.clear()
        job = request["job"]
        files = Files(job["folder"], {c["filename"]: c["label"] for c in job["chunks"] if c.get("label")})
        self.sandbox = Sandbox(files, request["timeout"])
        self.environment = JobEnvironment(job, self.base_path, files).__enter__()
        self.job = job
        self.namespace, status, notes = run_top_level(job, self.sandbox, request["import_timeout"])
        if status in RUN_ALONE:  # the parent asks for the definitions next, with a limit of their own
            return {"status": status, "notes": _plain(notes)}
        return {"status": status, "notes": _plain(notes + closing_notes(self.sandbox)), "found": self.found()}

    def definitions(self) -> dict:
        """The file's top level stopped: its imports and definitions run alone, then the names it defines."""
        notes = definitions_only(self.job, self.sandbox, self.namespace) + closing_notes(self.sandbox)
        return {"notes": _plain(notes), "found": self.found()}

    def found(self) -> dict:
        """The chapter's names the file defines: the reader's own by handle, the others by origin."""
        found = {}
        for name, entry in find(self.namespace).items():
            info = {"spelling": entry.spelling, **origin(entry.obj, entry.spelling, self.sandbox.files)}
            if info["yours"]:
                info["handle"] = self.register(entry.obj)
                if name not in CLASSES:
                    info["parameters"] = parameters(entry.obj)
                else:
                    info["methods"] = {
                        row: find_method(entry.obj, row.partition(".")[2]) for row in rows_of([name]) if "." in row
                    }
            found[name] = info
        return found

    def op_call(self, request: dict) -> dict:
        fn = self.objects[request["target"]]
        args, kwargs = self.arguments(request)
        self.sandbox.check_signature(fn, args, kwargs)
        value = self.sandbox.run(lambda: encode(fn(*args, **kwargs), self.register), self.sandbox.timeout)
        after = [encode(a) if isinstance(a, np.ndarray) else None for a in args] if request.get("back") else []
        return {"value": value, "after": after}

    def _path(self, obj, path: list):
        for i, step in enumerate(path):
            obj = getattr(obj, step) if i == 0 else obj[step]
        return obj

    def op_attr(self, request: dict) -> dict:
        try:
            value = getattr(self.objects[request["target"]], request["name"])
        except AttributeError:
            return {"missing": True}
        return {"value": encode(value, self.register)}

    def op_write(self, request: dict) -> dict:
        """``obj.path[...] = value`` (or ``[index]``): the known weights written into the reader's own array."""
        arr = self._path(self.objects[request["target"]], request["path"])
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{type(arr).__name__} is not an array")
        index = tuple(request["index"]) if request.get("index") is not None else Ellipsis
        arr[index] = decode(request["value"])
        return {"ok": True}

    def op_isolate(self, request: dict) -> dict:
        """While a row is probed: every failing reader function it calls, at any depth (through the
        reader's functions and the class's methods), is the book's, in the module where it is looked up;
        and each failing method of the network ``net`` it calls (``methods``: row -> [spelling, kind,
        path]) is the book's on that network. ``restore`` with the token puts everything back."""
        fn = self.objects[request["target"]]
        failing = {row: self.objects[h] for row, h in request["failing"].items()}
        cls = self.objects[request["cls"]] if request.get("cls") is not None else None  # None: no methods followed
        owners = reachable(fn, cls, frozenset(request.get("stop", ())))
        token = len(self.swaps) + 1
        self.swaps[token] = undo = []
        try:
            names = set().union(*(referenced_names(f) for f in owners))
            methods = []  # first, while no global is swapped: a stand-in reads the reader's network
            for row, (spelling, kind, path) in request["methods"].items():
                net = self.objects[request["net"]]
                if spelling in names and self._stand_in(net, spelling, kind, path):
                    undo.append(lambda net=net, spelling=spelling: delattr(net, spelling))
                    methods.append(row)
            swaps = []
            for owner in owners:
                namespace = owner.__globals__
                for name in sorted(referenced_names(owner)):
                    for row, obj in failing.items():
                        if namespace.get(name) is obj and not any(n is namespace and m == name for n, m, _ in swaps):
                            swaps.append((namespace, name, row))
            for namespace, name, row in swaps:
                undo.append(
                    lambda namespace=namespace, name=name, obj=namespace[name]: namespace.__setitem__(name, obj)
                )
                namespace[name] = REFERENCES[row]
        except BaseException:  # the reader's code (a property, a __setattr__) raised or ran out of time half-way:
            self._undo(token)  # nothing of the book's stays on its network for the probes after this one
            raise
        return {"rows": sorted({row for _, _, row in swaps}) + methods, "token": token}

    def op_restore(self, request: dict) -> dict:
        self._undo(request["token"])
        return {"ok": True}

    def _undo(self, token) -> None:
        for undo in reversed(self.swaps.pop(token, [])):
            with contextlib.suppress(AttributeError, TypeError):
                undo()

    def _stand_in(self, net, spelling: str, kind: str, path: list) -> bool:
        """The book's ``kind`` (predict, loss, simple_predict) as the method ``spelling`` of the reader's ``net``."""
        if kind == "simple_predict":
            W = self._path(net, path)
            method = lambda x: np.dot(x, W)  # noqa: E731
        else:
            params = net.params
            predict = partial(book_predict, params)
            method = predict if kind == "predict" else lambda x, t: book_cross_entropy_error(predict(x), t)
        try:
            setattr(net, spelling, method)
        except (AttributeError, TypeError):
            return False
        return True
