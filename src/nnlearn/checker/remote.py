"""The parent's side of the check: the child process that runs the reader's code, and the requests the
probes make of it.

Each request waits for exactly one answer, with the request's own id, until a deadline set by this
process's clock when it was sent: nothing the child sends moves it. A line that is not the answer asked
for, or a deadline that passes, ends the child (:class:`ChildLost`).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time

from nnlearn.checker.confine import Reaper, environment, limits
from nnlearn.checker.values import Opaque
from nnlearn.checker.wire import ReaderError, Timeout, WireError, decode, encode, ending, frames, typed

#: The command line of the child (``python -c BOOT IN OUT``): the current folder is taken off
#: ``sys.path`` before nnlearn is imported, so a reader's file named like a module cannot shadow it.
BOOT = (
    "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
    "from nnlearn.checker.child import main; main()"
)
#: Seconds the parent waits beyond a call's limit before it kills the child (the child's own alarm
#: comes first; this only ends a child whose code swallowed the alarm or is stuck in C).
GRACE = 1.0
#: Seconds a child may take to start (import NumPy and nnlearn) on a busy machine.
STARTUP_S = 60.0
#: Bytes of one answer (the largest a probe asks for is a 784x100 weight matrix; an array the
#: reader returns is cut at wire.MAX_ELEMENTS).
MAX_LINE = 32 << 20


def grace(limit: float, top_level: bool) -> float:
    """How long past ``limit`` the parent waits. Killing the child at a file's top level loses the
    whole file, and one long call in C (decompressing a data set, a large product) delays the alarm,
    so the top level gets half its budget more (2 to 10 s)."""
    return max(GRACE, min(10.0, limit / 2)) if top_level else GRACE


class ChildLost(Exception):
    """The child ended, was killed at its deadline, or sent what the check did not ask for.

    ``kind``: ``killed`` (its deadline passed), ``crashed`` (it ended: ``why`` says how) or ``forged``
    (a line that is not the answer asked for: the reader's code wrote to the check's channel).
    """

    def __init__(self, kind: str, why: str = ""):
        super().__init__(f"{kind}: {why}")
        self.kind, self.why = kind, why


def _worker_ending(message: dict) -> str | None:
    """How a file's process ended, from the child's line about it (``exit code 3``, ``SIGKILL``)."""
    why = message.get("worker") if set(message) == {"id", "worker"} else None
    return why if type(why) is str and len(why) <= 40 else None


class Remote:
    """One child process, and the requests made of it."""

    def __init__(self, reaper: Reaper, timeout: float, cpu_s: int):
        self.reaper = reaper
        self.timeout = timeout
        from_parent, to_child = os.pipe()
        from_child, to_parent = os.pipe()
        self.proc = reaper.start(
            [sys.executable, "-c", BOOT, str(from_parent), str(to_parent)],
            # What the reader's code prints is captured in the child (sandbox.Capture); what it writes
            # to the file descriptors themselves goes nowhere.
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(from_parent, to_parent),
            env=environment(),
            start_new_session=True,
            preexec_fn=limits(cpu_s) if os.name == "posix" else None,
        )
        os.close(from_parent)
        os.close(to_parent)
        self.requests = to_child
        self.replies = from_child
        os.set_blocking(to_child, False)  # a child that stops reading cannot hold a write past its deadline
        self.buffer = bytearray()
        self.next_id = 1
        self.dead = False
        self.row = None  # the row whose probe is running (None: a file's top level), to blame on a loss
        ready = self._read_line(time.monotonic() + STARTUP_S)
        if set(ready) != {"id", "ready", "fork"} or ready["id"] != 0 or type(ready["fork"]) is not bool:
            self.lose("forged")
        self.fork = ready["fork"]  # each file in a process of its own, forked by the child (Linux)

    # -- the end -------------------------------------------------------------------------------------

    def close(self) -> None:
        """End the child, its process group, and every process it left behind; reap them."""
        if self.dead and self.proc.returncode is not None:
            return
        self.dead = True
        self.reaper.end(self.proc)
        self.reaper.sweep()
        for fd in (self.requests, self.replies):
            with contextlib.suppress(OSError):
                os.close(fd)

    def lose(self, kind: str, why: str | None = None):
        if kind == "crashed" and why is None:  # why it ended: SIGKILL, exit code 3
            try:
                why = ending(self.proc.wait(timeout=1))
            except subprocess.TimeoutExpired:  # the channel closed by a process that goes on: the reader's code
                kind = "forged"
        self.close()
        raise ChildLost(kind, why or "")

    # -- one request, one answer ------------------------------------------------------------------------

    def _read_line(self, deadline: float) -> dict:
        end = self.buffer.find(b"\n")
        while end < 0:
            wait = deadline - time.monotonic()
            if wait <= 0:
                self.lose("killed")
            ready, _, _ = select.select([self.replies], [], [], wait)
            if not ready:
                continue
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                self.lose("crashed")
            end = chunk.find(b"\n")
            end = end + len(self.buffer) if end >= 0 else -1
            self.buffer += chunk
            if end < 0 and len(self.buffer) > MAX_LINE:
                self.lose("forged")
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            self.lose("forged")
        if not isinstance(message, dict):
            self.lose("forged")
        return message

    def request(self, op: str, seconds: float, top_level: bool = False, **fields) -> dict:
        """Send one request and return its answer (a dict without its id); the child is lost (and
        :class:`ChildLost` raised) when no answer with the request's id comes within ``seconds`` plus
        the grace period, or any other line comes first."""
        if self.dead:
            raise ChildLost("crashed", "ended")
        rid, self.next_id = self.next_id, self.next_id + 1
        data = (json.dumps({"id": rid, "op": op, **fields}) + "\n").encode()
        deadline = time.monotonic() + seconds + grace(seconds, top_level)
        try:
            view = memoryview(data)
            while view:
                _, ready, _ = select.select([], [self.requests], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    self.lose("killed")
                with contextlib.suppress(BlockingIOError):
                    view = view[os.write(self.requests, view) :]
        except OSError:  # BrokenPipeError among them: the child ended
            self.lose("crashed")
        message = self._read_line(deadline)
        if message.get("id") == 0 and self.fork and _worker_ending(message):  # the file's process ended
            self.lose("crashed", why=_worker_ending(message))
        if message.get("id") != rid or "internal" in message:
            if os.environ.get("NNLEARN_DEBUG", "") not in ("", "0"):  # a bug of the child's own code shows here
                print(f"nnlearn check: the child answered {str(message)[:4000]}", file=sys.stderr)
            self.lose("forged")
        del message["id"]
        return message

    def end_job(self) -> None:
        """The file is checked: its process ends (the child forks the next file's from a clean state)."""
        reply = self.request("end", self.timeout)
        if reply.get("ok") is not True:
            self.lose("forged")
        if self.fork:
            ended = self._read_line(time.monotonic() + self.timeout + GRACE)
            if ended.get("id") != 0 or _worker_ending(ended) is None:
                self.lose("forged")
            self.reaper.sweep()  # what the file's code left running ends before the next file starts

    # -- what the probes ask --------------------------------------------------------------------------

    def _outcome(self, reply: dict):
        """The value of a reply, or its Timeout / ReaderError raised; anything else loses the child."""
        try:
            if "value" in reply:
                return decode(reply["value"])
            if "timeout" in reply:
                t = reply["timeout"]
                if type(t) is dict and type(t.get("seconds")) in (int, float):
                    raise Timeout(float(t["seconds"]), frames(t.get("where")))
            if "error" in reply:
                e = reply["error"]
                fields = [e.get(k) for k in ("kind", "text", "signature")] if type(e) is dict else None
                if typed(fields, str, str, bool):
                    raise ReaderError(e["kind"][:200], e["text"][:400], frames(e.get("where")), e["signature"])
        except WireError:
            pass
        self.lose("forged")

    def call(self, fn: Opaque, args: tuple, kwargs: dict, back: bool = False):
        """``fn(*args, **kwargs)`` in the child: its value, and (``back``) the array arguments as the
        call left them (None where an argument is not an array)."""
        reply = self.request(
            "call",
            self.timeout,
            target=fn.handle,
            args=[encode(a) for a in args],
            kwargs={k: encode(v) for k, v in kwargs.items()},
            back=back,
        )
        value = self._outcome(reply)
        after = reply.get("after")
        try:
            if type(after) is not list or len(after) != (len(args) if back else 0):
                raise WireError("the arguments after the call are not a list")
            after = [decode(a) if a is not None else None for a in after]
        except WireError:
            self.lose("forged")
        return value, after

    def attr(self, obj: Opaque, name: str):
        """``getattr(obj, name)``, or None when it has no such attribute (or getting it fails)."""
        reply = self.request("attr", self.timeout, target=obj.handle, name=name)
        if reply.get("missing") is True or self._failed(reply):
            return None
        return self._outcome(reply)

    def write(self, obj: Opaque, path: tuple, value, index=None) -> bool:
        """``obj.path[index] = value`` in the child (``[...]`` without ``index``); whether it worked."""
        index = [int(i) for i in index] if index is not None else None
        reply = self.request(
            "write", self.timeout, target=obj.handle, path=list(path), value=encode(value), index=index
        )
        if reply.get("ok") is True:
            return True
        if not self._failed(reply):
            self.lose("forged")
        return False

    def _failed(self, reply: dict) -> bool:
        """Whether the reader's code raised or overran while the child did what was asked (then the
        stand-in is not made); any other answer than the one asked for loses the child."""
        if "error" in reply or "timeout" in reply:
            try:
                self._outcome(reply)
            except (ReaderError, Timeout):
                return True
        return False

    def isolate(self, fn: Opaque, failing: dict, cls: Opaque | None, stop, net: Opaque | None, methods: dict):
        """Stand the book's functions in for the failing ones (row -> Opaque) that ``fn`` calls, at any
        depth (through the reader's functions and, with ``cls``, its methods; a method named in ``stop``
        not followed), and the book's methods for the failing ``methods`` of ``net`` it calls (row ->
        (spelling, kind, path)); returns the rows stood in for and the token that puts them back."""
        follow = {}
        if isinstance(cls, Opaque) and cls.handle >= 0:
            follow = {"cls": cls.handle, "stop": sorted(s for s in stop if isinstance(s, str))}
        reply = self.request(
            "isolate",
            self.timeout,
            target=fn.handle,
            failing={row: obj.handle for row, obj in failing.items()},
            net=net.handle if methods else None,
            methods={row: [spelling, kind, list(path)] for row, (spelling, kind, path) in methods.items()},
            **follow,
        )
        if self._failed(reply):
            return [], 0
        rows, token = reply.get("rows"), reply.get("token")
        if type(rows) is not list or not set(rows) <= {*failing, *methods} or type(token) is not int:
            self.lose("forged")
        return rows, token

    def restore(self, token: int) -> None:
        self.request("restore", self.timeout, token=token)
