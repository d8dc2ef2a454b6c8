"""Downloads against a local HTTP server on 127.0.0.1: bad mirrors, a good one, dead ones, a silent one."""

import gzip
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from mnist_tiny import NAMES, InflateCounter, gzip_bomb, tiny_payloads, tiny_spec, write_tiny

from nnlearn.datasets import DatasetError, DatasetWarning, load_dataset
from nnlearn.datasets.download import DownloadError, download_file, ensure_files, fetch_dataset, mirrors_for
from nnlearn.datasets.sources import download_dir

PAYLOADS = tiny_payloads()
GOOD = {NAMES[r]: gzip.compress(d, mtime=0) for r, d in PAYLOADS.items()}
OTHER = {NAMES[r]: gzip.compress(d, mtime=0) for r, d in tiny_payloads(seed=1).items()}
# The right header, then 8 MiB of zeros: 8 KiB on the wire, less than the 9,424-byte file it claims to be.
BOMB = gzip_bomb(PAYLOADS["train-images"][:16], 8 << 20)


class Handler(http.server.BaseHTTPRequestHandler):
    """``/<behaviour>/<file>``: 403, trunc, wrong, good, recompressed, html, flaky (500 once), stall, trickle, liar..."""

    log: list = []
    flaky_seen: set = set()

    def log_message(self, *args):
        pass

    def _send(self, body: bytes, length: int | str | None = None):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, data: bytes, step: int = 1, pause: float = 0.1):
        try:
            for i in range(0, len(data), step):
                self.wfile.write(data[i : i + step])
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass  # the client gave up, as it should

    def do_GET(self):
        behaviour, _, name = self.path.strip("/").partition("/")
        Handler.log.append((behaviour, name))
        if name not in GOOD:
            self.send_error(404)
        elif behaviour == "403":
            self.send_error(403, "Forbidden")
        elif behaviour == "trunc":
            body = GOOD[name]
            self._send(body[: len(body) // 2], length=len(body))
            self.close_connection = True
        elif behaviour == "wrong":
            self._send(OTHER[name])
        elif behaviour == "good":
            self._send(GOOD[name])
        elif behaviour == "recompressed":
            self._send(gzip.compress(gzip.decompress(GOOD[name]), compresslevel=1, mtime=12345))
        elif behaviour == "liar":
            # The right bytes behind a Content-Length no copy of the file can have; they stop short of it.
            self._send(GOOD[name], length=10 << 20)
            self.close_connection = True
        elif behaviour == "notanumber":
            self._send(GOOD[name], length="\xb2")
        elif behaviour == "bomb":
            self._send(BOMB)
        elif behaviour == "huge":
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 40))
            self.end_headers()
        elif behaviour == "badgz":
            body = bytearray(GOOD[name])
            body[12:20] = b"\xff" * 8
            self._send(bytes(body))
        elif behaviour == "html":
            self._send(b"<html>moved</html>")
        elif behaviour == "flaky":
            if name in Handler.flaky_seen:
                self._send(GOOD[name])
            else:
                Handler.flaky_seen.add(name)
                self.send_error(503, "Busy")
        elif behaviour == "trickle":
            # One byte at a time, each well within the per-read time-out: only a whole-file deadline ends it.
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD[name])))
            self.end_headers()
            self._trickle(GOOD[name])
        elif behaviour == "drip":  # about 10 kB/s
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD[name])))
            self.end_headers()
            self._trickle(GOOD[name], step=512, pause=0.05)
        elif behaviour == "trickleheaders":
            self._trickle(b"HTTP/1.0 200 OK\r\nX-Slow: " + b"x" * 1000)
        elif behaviour == "stall":
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD[name])))
            self.end_headers()
            self.wfile.write(GOOD[name][:10])
            self.wfile.flush()
            time.sleep(3)
        else:
            self.send_error(404)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def silent():
    """A server that accepts connections (the kernel completes the handshake) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture
def refused():
    """A URL whose port nobody listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    # Whatever happens, no test here reaches a real mirror.
    monkeypatch.setenv("NNLEARN_MIRRORS", "")
    monkeypatch.delenv("NNLEARN_DATA", raising=False)
    # The local test servers must be reached directly even where a proxy is configured.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv("NNLEARN_OFFLINE", raising=False)
    monkeypatch.delenv("NNLEARN_SPEED_LIMIT", raising=False)
    monkeypatch.delenv("NNLEARN_SPEED_TIME", raising=False)
    Handler.log.clear()
    Handler.flaky_seen.clear()


def _leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir() if p.name not in GOOD)


def test_load_succeeds_from_the_fourth_mirror_and_leaves_nothing_wrong(server, monkeypatch):
    spec = tiny_spec(PAYLOADS)
    mirrors = [f"{server}/403", f"{server}/trunc", f"{server}/wrong", f"{server}/good"]
    monkeypatch.setenv("NNLEARN_MIRRORS", " ".join(mirrors))
    monkeypatch.setenv("NNLEARN_TIMEOUT", "2")
    import nnlearn.datasets.download as download

    waits = []  # the back-off before a retry, recorded instead of slept
    monkeypatch.setattr(download.time, "sleep", waits.append)
    (x, t), (xt, tt) = load_dataset(spec, normalize=False, flatten=False)
    assert waits == [0.5] * 4  # one retry of the truncated mirror per file
    folder = download_dir(spec)
    for name, body in GOOD.items():
        assert (folder / name).read_bytes() == body
    assert _leftovers(folder) == []
    # Each mirror was asked for each file, in order; the truncated one twice (one retry).
    assert [b for b, n in Handler.log if n == "train-images-idx3-ubyte.gz"] == [
        "403",
        "trunc",
        "trunc",
        "wrong",
        "good",
    ]
    raw = np.frombuffer(PAYLOADS["train-images"], np.uint8, offset=16).reshape(-1, 1, 28, 28)
    np.testing.assert_array_equal(x, raw)
    np.testing.assert_array_equal(tt, np.frombuffer(PAYLOADS["test-labels"], np.uint8, offset=8))


def test_download_error_says_what_each_mirror_did(server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    f = spec.file("train-labels")
    with pytest.raises(DownloadError) as info:
        download_file(
            f,
            tmp_path,
            [f"{server}/403", f"{server}/trunc", f"{server}/wrong", f"{server}/html", f"{server}/badgz"],
            timeout=2,
            retries=2,
            backoff=0.01,
        )
    msg = str(info.value)
    assert f"{server}/403/{f.name}: HTTP 403 Forbidden" in msg
    assert f"{server}/trunc/{f.name}: transfer cut short" in msg
    assert f"{server}/wrong/{f.name}: wrong content (SHA-256" in msg
    assert f"{server}/html/{f.name}: wrong content (SHA-256" in msg
    assert f"{server}/badgz/{f.name}: not a valid gzip/IDX file" in msg
    assert [b for b, _ in Handler.log].count("trunc") == 3
    assert list(tmp_path.iterdir()) == []


def test_an_endless_answer_is_refused(server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    with pytest.raises(
        DownloadError, match=r"/huge/train-labels-idx1-ubyte\.gz: wrong content \(1099511627776 bytes announced"
    ):
        download_file(spec.file("train-labels"), tmp_path, [f"{server}/huge"], timeout=2)
    assert list(tmp_path.iterdir()) == []


def test_recompressed_copy_is_accepted(server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    paths = fetch_dataset(spec, tmp_path, mirrors=[f"{server}/recompressed"], timeout=2)
    body = paths["train-images"].read_bytes()
    assert body != GOOD["train-images-idx3-ubyte.gz"]
    assert gzip.decompress(body) == PAYLOADS["train-images"]


def test_server_error_is_retried_on_the_same_mirror(server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    path = download_file(spec.file("test-labels"), tmp_path, [f"{server}/flaky"], timeout=2, backoff=0.01)
    assert path.read_bytes() == GOOD["t10k-labels-idx1-ubyte.gz"]
    assert Handler.log == [("flaky", "t10k-labels-idx1-ubyte.gz")] * 2


def test_all_mirrors_down_gives_the_clear_message_within_seconds(server, refused, monkeypatch, tmp_path):
    spec = tiny_spec(PAYLOADS)
    monkeypatch.setenv("NNLEARN_MIRRORS", f"{refused}/a, {server}/403")
    mine = write_tiny(tmp_path / "mine", PAYLOADS)
    (mine / NAMES["test-labels"]).unlink()
    start = time.monotonic()
    with pytest.raises(DatasetError) as info:
        load_dataset(spec, data_dir=mine)
    elapsed = time.monotonic() - start
    assert elapsed < 10
    cache = download_dir(spec)
    lines = str(info.value).splitlines()
    # A short first line, then indented details; the one missing file is named, with its folder.
    assert lines[:5] == [
        "TINY files not found; looked in:",
        f"    {mine}/tiny: no such folder",
        f"    {mine}: has 3 of 4 files; missing t10k-labels-idx1-ubyte.gz",
        f"    {cache}: none of the files",
        "  download failed:",
    ]
    assert lines[5:9] == [
        f"    TINY: 4 of 4 files could not be downloaded into {cache}",
        "      train-images-idx3-ubyte.gz: no mirror delivered it",
        f"        {refused}/a/train-images-idx3-ubyte.gz: cannot connect (Connection refused)",
        f"        {server}/403/train-images-idx3-ubyte.gz: HTTP 403 Forbidden",
    ]
    assert lines[-2].startswith(
        "  to use a copy you have (a folder holding the four files, or a tiny/ sub-folder): "
        "register it once with `nnlearn data import FOLDER --dataset tiny`, or pass "
        "--data-dir FOLDER (data_dir=FOLDER in Python), or set NNLEARN_DATA=FOLDER"
    )
    assert lines[-1] == "  where the network is reachable: `nnlearn data download --dataset tiny`"
    assert list(cache.iterdir()) == []


def test_a_server_that_never_answers_times_out(silent, server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    f = spec.file("train-labels")
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"no answer within 0\.3 s"):
        download_file(f, tmp_path, [silent], timeout=0.3)
    assert time.monotonic() - start < 3
    path = download_file(f, tmp_path, [silent, f"{server}/good"], timeout=0.3)
    assert path.read_bytes() == GOOD[f.name]
    assert time.monotonic() - start < 5


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_a_silent_mirror_costs_one_time_out_per_data_set(silent, server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    start = time.monotonic()
    fetch_dataset(spec, tmp_path, mirrors=[silent, f"{server}/good"], timeout=0.5)
    # four files: the silent mirror is tried for the first only, then skipped
    assert 0.5 <= time.monotonic() - start < 1.9
    assert sorted(name for _, name in Handler.log) == sorted(f.name for f in spec.files)
    with pytest.raises(DownloadError) as info:
        fetch_dataset(spec, tmp_path / "other", mirrors=[silent], timeout=0.5)
    assert "no answer within 0.5 s" in str(info.value)
    assert str(info.value).count("not tried, every mirror failed for an earlier file (no answer, or too slow)") == 3


def test_a_server_that_stalls_mid_transfer_times_out(server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    f = spec.file("train-images")
    start = time.monotonic()
    path = download_file(f, tmp_path, [f"{server}/stall", f"{server}/good"], timeout=0.3)
    assert time.monotonic() - start < 2.5
    assert path.read_bytes() == GOOD[f.name]
    assert _leftovers(tmp_path) == []


def test_files_already_there_are_kept_and_wrong_ones_replaced(server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    write_tiny(tmp_path, PAYLOADS, compresslevel=1)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(OTHER["t10k-labels-idx1-ubyte.gz"])
    kept = (tmp_path / "train-images-idx3-ubyte.gz").read_bytes()
    fetch_dataset(spec, tmp_path, mirrors=[f"{server}/good"], timeout=2)
    assert Handler.log == [("good", "t10k-labels-idx1-ubyte.gz")]
    assert (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes() == GOOD["t10k-labels-idx1-ubyte.gz"]
    assert (tmp_path / "train-images-idx3-ubyte.gz").read_bytes() == kept


def test_offline_and_no_mirrors_fail_at_once(monkeypatch, tmp_path):
    spec = tiny_spec(PAYLOADS, mirrors=("http://127.0.0.1:9/never",))
    monkeypatch.setenv("NNLEARN_OFFLINE", "1")
    monkeypatch.delenv("NNLEARN_MIRRORS")
    with pytest.raises(DatasetError, match="NNLEARN_OFFLINE is set"):
        ensure_files(spec)
    monkeypatch.delenv("NNLEARN_OFFLINE")
    monkeypatch.setenv("NNLEARN_MIRRORS", "")
    with pytest.raises(
        DatasetError, match=r"no mirror to download train-images-idx3-ubyte\.gz, .* from \(NNLEARN_MIRRORS is empty"
    ):
        ensure_files(spec)


def test_mirror_list_from_argument_env_or_spec(monkeypatch):
    spec = tiny_spec(PAYLOADS, name="fashion-mnist", mirrors=("https://a/", "https://b/"))
    monkeypatch.delenv("NNLEARN_MIRRORS")
    assert mirrors_for(spec) == ["https://a/", "https://b/"]
    monkeypatch.setenv("NNLEARN_MIRRORS", "http://127.0.0.1:1/{dataset}/, http://x/")
    assert mirrors_for(spec) == ["http://127.0.0.1:1/fashion-mnist/", "http://x/"]
    assert mirrors_for(spec, ["https://m/{dataset}"]) == ["https://m/fashion-mnist"]


def test_bad_timeout_and_speed_settings_are_clear_errors(monkeypatch):
    from nnlearn.datasets.download import default_timeout, speed_limit

    assert speed_limit() == (1024, 20)
    monkeypatch.setenv("NNLEARN_SPEED_LIMIT", "fast")
    with pytest.raises(DatasetError, match="NNLEARN_SPEED_LIMIT must be a number > 0, got 'fast'"):
        speed_limit()
    monkeypatch.setenv("NNLEARN_SPEED_LIMIT", "100")
    monkeypatch.setenv("NNLEARN_SPEED_TIME", "-1")
    with pytest.raises(DatasetError, match="NNLEARN_SPEED_TIME must be a number > 0, got -1"):
        speed_limit()
    monkeypatch.setenv("NNLEARN_SPEED_TIME", "2")
    assert speed_limit() == (100, 2)

    monkeypatch.setenv("NNLEARN_TIMEOUT", "soon")
    with pytest.raises(DatasetError, match="NNLEARN_TIMEOUT must be a number > 0, got 'soon'"):
        default_timeout()
    monkeypatch.setenv("NNLEARN_TIMEOUT", "0")
    with pytest.raises(DatasetError, match="must be a number > 0"):
        default_timeout()
    monkeypatch.setenv("NNLEARN_TIMEOUT", "2.5")
    assert default_timeout() == 2.5


def test_default_mirrors_are_the_public_copies_first_and_the_original_last():
    from nnlearn.datasets import FASHION_MNIST, MNIST

    assert MNIST.mirrors[0].startswith("https://ossci-datasets.s3.amazonaws.com/")
    assert MNIST.mirrors[-1] == "http://yann.lecun.com/exdb/mnist/"
    assert len(FASHION_MNIST.mirrors) >= 2


def test_a_mirror_below_the_speed_limit_is_abandoned_and_skipped_for_the_other_files(server, tmp_path, monkeypatch):
    spec = tiny_spec(PAYLOADS)
    # A byte every 0.1 s, each well within the per-read time-out: only the low-speed limit ends it.
    monkeypatch.setenv("NNLEARN_SPEED_TIME", "0.3")
    start = time.monotonic()
    paths = fetch_dataset(spec, tmp_path, mirrors=[f"{server}/trickle", f"{server}/good"], timeout=2)
    assert time.monotonic() - start < 3  # a hang guard: the window is 0.3 s, the four files are local
    assert {p.name: p.read_bytes() for p in paths.values()} == GOOD
    assert Handler.log == [("trickle", NAMES["train-images"])] + [("good", NAMES[r]) for r in PAYLOADS]
    with pytest.raises(DownloadError) as info:
        fetch_dataset(spec, tmp_path / "b", mirrors=[f"{server}/trickleheaders", f"{server}/403"], timeout=2)
    lines = str(info.value).splitlines()
    assert lines[1:4] == [
        f"  {NAMES['train-images']}: no mirror delivered it",
        f"    {server}/trickleheaders/{NAMES['train-images']}: too slow: 0 bytes in 0.3 s, less than 1024 bytes/s "
        "(NNLEARN_SPEED_LIMIT, NNLEARN_SPEED_TIME); not tried for the other files",
        f"    {server}/403/{NAMES['train-images']}: HTTP 403 Forbidden",
    ]
    assert lines[5] == f"    {server}/trickleheaders/{NAMES['train-labels']}: skipped (too slow for an earlier file)"
    assert _leftovers(tmp_path) == ["b"] and list((tmp_path / "b").iterdir()) == []


@pytest.mark.slow  # a property of pooch, not of nnlearn: checked with the long tests
def test_pooch_alone_does_not_cut_a_trickling_mirror(server):
    # Why the watchdog exists: pooch's time-out (requests') bounds each read, and a byte every 0.1 s
    # satisfies it. Should pooch ever bound the transfer itself, this fails and the watchdog can go.
    import io

    import pooch

    out = io.BytesIO()
    failed = []

    def transfer():
        try:
            pooch.HTTPDownloader(timeout=0.3, chunk_size=1)(f"{server}/trickle/{NAMES['train-labels']}", out, None)
        except Exception as exc:  # noqa: BLE001 -- any failure is the finding
            failed.append(exc)

    thread = threading.Thread(target=transfer, daemon=True)  # it finishes, 4 s later, on its own
    thread.start()
    thread.join(1.5)
    assert thread.is_alive() and not failed
    assert 3 <= len(out.getvalue()) < len(GOOD[NAMES["train-labels"]])


@pytest.mark.slow  # seconds of waiting or training: with the long tests (the quick suite keeps 60 s)
def test_the_speed_limit_is_bytes_per_second_over_the_window(server, tmp_path, monkeypatch):
    spec = tiny_spec(PAYLOADS)
    # The drip delivers about 10 kB/s: enough under a limit of 500 bytes/s, too little under 50,000. The bytes
    # are counted in pooch's 1 KiB chunks, so each window must hold a few of them at the drip's rate.
    f = spec.file("train-images")  # 9,447 bytes of gzip
    monkeypatch.setenv("NNLEARN_SPEED_TIME", "0.4")
    monkeypatch.setenv("NNLEARN_SPEED_LIMIT", "500")
    path = download_file(f, tmp_path, [f"{server}/drip"], timeout=2)
    assert path.read_bytes() == GOOD[f.name]
    monkeypatch.setenv("NNLEARN_SPEED_LIMIT", "50000")
    with pytest.raises(DownloadError, match=r"too slow: \d+ bytes in 0\.4 s, less than 50000 bytes/s"):
        download_file(f, tmp_path, [f"{server}/drip"], timeout=2)


def test_a_lying_content_length_is_refused_at_once(server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    f = spec.file("train-labels")  # 20 bytes decompressed
    with pytest.raises(DownloadError) as info:
        download_file(f, tmp_path, [f"{server}/liar", f"{server}/notanumber"], timeout=2, backoff=0.01)
    assert str(info.value).splitlines()[1:] == [
        f"  {server}/liar/{f.name}: wrong content (10485760 bytes announced; a copy of {f.name} takes 0 to 4116 bytes)",
        f"  {server}/notanumber/{f.name}: a broken answer (Content-Length '\xb2' is not a number)",
    ]
    assert Handler.log == [("liar", f.name), ("notanumber", f.name)]  # refused, not retried
    assert list(tmp_path.iterdir()) == []


def test_a_gzip_bomb_from_a_mirror_is_refused_without_decompressing_past_the_cap(server, tmp_path, monkeypatch):
    spec = tiny_spec(PAYLOADS)
    f = spec.file("train-images")
    counter = InflateCounter(monkeypatch)
    with pytest.raises(DownloadError) as info:
        download_file(f, tmp_path, [f"{server}/bomb"], timeout=2)
    assert str(info.value).splitlines()[1] == (
        f"  {server}/bomb/{f.name}: wrong content (decompresses to more than {f.payload_cap} bytes, more than "
        f"{f.name} holds: a wrong file or a decompression bomb)"
    )
    assert 0 < counter.total <= f.payload_cap + 1
    assert list(tmp_path.iterdir()) == []


def test_malformed_mirror_entries_are_skipped_with_a_warning(server, monkeypatch):
    spec = tiny_spec(PAYLOADS)
    monkeypatch.setenv("NNLEARN_MIRRORS", f"notaurl, http://[::1 {server}/good")
    with pytest.warns(DatasetWarning) as caught:
        (x, _), _ = load_dataset(spec, normalize=False)
    assert [str(w.message) for w in caught] == [
        "NNLEARN_MIRRORS: skipped the entry 'notaurl': not an http:// or https:// URL",
        "NNLEARN_MIRRORS: skipped the entry 'http://[::1': not a valid URL (Invalid IPv6 URL)",
    ]
    np.testing.assert_array_equal(x.reshape(-1), np.frombuffer(PAYLOADS["train-images"], np.uint8, offset=16))


SIGNAL_CHILD = """
import sys
from mnist_tiny import tiny_payloads, tiny_spec
from nnlearn.datasets.download import fetch_dataset
fetch_dataset(tiny_spec(tiny_payloads()), sys.argv[1], mirrors=[sys.argv[2]], timeout=10)
"""


def _killed_mid_download(dest, mirror, sig):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", SIGNAL_CHILD, str(dest), mirror], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while not (dest.is_dir() and any(p.suffix == ".part" for p in dest.iterdir())):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "no .part"
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    if proc.returncode not in (128 + sig, -sig):  # say why, should it ever end otherwise
        print(err.decode(errors="replace"))
    return proc.returncode


def test_sigterm_removes_the_temporary_file_and_a_killed_process_leftover_goes_next_time(server, tmp_path):
    spec = tiny_spec(PAYLOADS)
    dest = tmp_path / "d"
    assert _killed_mid_download(dest, f"{server}/trickle", signal.SIGTERM) == 143
    assert list(dest.iterdir()) == []
    assert _killed_mid_download(dest, f"{server}/trickle", signal.SIGKILL) == -signal.SIGKILL
    [left] = list(dest.iterdir())
    assert left.name.startswith(".train-images-idx3-ubyte.gz.") and left.suffix == ".part"
    # The good mirror: 10 s, so that a thread starved on a busy machine cannot fail it.
    fetch_dataset(spec, dest, mirrors=[f"{server}/good"], timeout=10)
    assert sorted(p.name for p in dest.iterdir()) == sorted(GOOD)
