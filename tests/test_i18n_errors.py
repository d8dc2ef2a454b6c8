"""The errors met around the library, not by its calls (those are tests/test_error_convention.py's): the
board's refusals and JSON errors, a run folder's unreadable files, a sweep journal's damage, a setting
that cannot work, a locked run, in Chinese and Japanese as in English, never left in English.

The board answers each request in its language (``Accept-Language`` here), the work done in its worker
threads included; the library's errors in the current language (:func:`nnlearn.base.i18n.use`).
"""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import urlsplit

import pytest

from nnlearn.base import i18n
from nnlearn.base.errors import FileFormatError, InputError
from nnlearn.base.i18n import translate

#: The script each language writes its messages in (a message also holds names, numbers and paths).
SCRIPTS = {"zh": re.compile("[\u4e00-\u9fff]"), "ja": re.compile("[\u3040-\u30ff]")}
LANGS = ("en", *SCRIPTS)


def _request(base, method, path, headers, body=None):
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@pytest.fixture
def board(tmp_path, make_run, serve_board):
    root = tmp_path / "runs"
    make_run(root / "alpha", test_accuracy=0.88)
    bad = make_run(root / "huge-pid", test_accuracy=0.5)
    (bad / "state.json").write_text('{"state": "running", "pid": 1000000000000000000000000000000}')
    (root / "not-json").mkdir()
    (root / "not-json" / "config.json").write_text("[1]")
    return serve_board(root)


#: (method, path, extra headers, body) -> (status, the English message, its fields)
REFUSALS = [
    (
        ("GET", "/api/sample?path=alpha&class=%C2%B2", {}, None),  # refused in a worker thread
        (400, "{name} must be a whole number from {lo} to {hi}", {"name": "class", "lo": "0", "hi": "99999"}),
    ),
    (
        ("POST", "/api/predict?path=alpha", {"Origin": "http://evil.com", "Content-Type": "image/png"}, b"\x89PNG"),
        (403, "a drawing is accepted only from the board's own page (the request came from another site)", {}),
    ),
    (
        ("POST", "/api/predict?path=alpha", {"Content-Type": "text/plain"}, b"\x89PNG"),
        (415, "send the drawing as a PNG body with Content-Type: image/png", {}),
    ),
    (
        ("POST", "/api/predict?path=alpha", {"Content-Type": "image/png", "Content-Length": "99999999"}, None),
        (413, "the drawing is {n} bytes; at most {most} are accepted", {"n": 99999999, "most": 1_000_000}),
    ),
    (
        ("POST", "/api/predict?path=alpha", {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n"),
        (409, "the run {rel!r} is {state}; drawing needs a finished run with its model.npz", {"rel": "alpha"}),
    ),
    (("GET", "/api/run?path=../x", {}, None), (403, "the path {rel!r} leaves the board's folder", {"rel": "../x"})),
    (("GET", "/nowhere", {}, None), (404, "no such page", {})),
    (
        ("DELETE", "/", {}, None),
        (405, "{method} is not allowed: the board only reads (GET, HEAD)", {"method": "DELETE"}),
    ),
    (("GET", "/lessons/nothing", {}, None), (404, "no such lesson; the lessons are listed at /lessons", {})),
]


@pytest.mark.parametrize("lang", LANGS)
def test_the_boards_refusals_are_in_the_requests_language(board, lang):
    headers = {"Accept-Language": lang}
    for (method, path, extra, body), (status, msgid, fields) in REFUSALS:
        if "state" in msgid:
            fields = fields | {"state": translate("finished", lang)}
        got = _request(board, method, path, headers | extra, body)
        said = json.loads(got[1])["error"]
        assert (got[0], said) == (status, translate(msgid, lang, **fields)), path
        if lang != "en":
            assert SCRIPTS[lang].search(said) and said != translate(msgid, "en", **fields), said


@pytest.mark.parametrize("lang", LANGS)
def test_a_run_folder_that_cannot_be_read_is_said_in_the_boards_language(board, lang):
    status, body = _request(board, "GET", "/api/runs", {"Accept-Language": lang})
    reasons = {e["path"]: e["reason"] for e in json.loads(body)["entries"] if e["state"] == "unreadable"}
    with i18n.use(lang):
        assert reasons == {
            "huge-pid": i18n._("state.json: the pid is not a process id"),
            "not-json": i18n._("{name} is not a JSON object", name="config.json"),
        }
    status, body = _request(board, "GET", "/api/run?path=huge-pid", {"Accept-Language": lang})
    assert status == 409 and reasons["huge-pid"] in json.loads(body)["error"]
    if lang != "en":
        assert all(SCRIPTS[lang].search(r) for r in reasons.values())


def _journal(tmp_path, *lines, cut=b""):
    path = tmp_path / "study.journal"
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines) + cut)
    return path


CREATE = {"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [2]}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "lines, cut, line, why",
    [
        (
            (CREATE, {"op_code": 42, "worker_id": "w"}),
            b"",
            2,
            ("op_code {op!r} is not an operation of Optuna's journal", {"op": 42}),
        ),
        (
            (CREATE, {"op_code": 1, "worker_id": "w", "study_id": "one"}),
            b"",
            2,
            (
                "its {field} is {value}, not {kind}",
                {"field": "study_id", "value": "'one'", "kind": "a whole number >= 0"},
            ),
        ),
        ((CREATE,), b'{"op_code": 4', 2, ("the line is cut off: a write that did not finish", {})),
    ],
)
def test_a_damaged_journal_is_said_in_the_commands_language(tmp_path, lang, lines, cut, line, why):
    from nnlearn.sweep.journal import check_journal

    journal = _journal(tmp_path, *lines, cut=cut)
    with i18n.use(lang), pytest.raises(FileFormatError) as info:
        check_journal(journal, tmp_path, [])
    # The file, the line, where the damage is, and both ways on (the key tokens, not the sentence).
    said = str(info.value).replace(str(journal), "JOURNAL").replace(str(tmp_path), "FOLDER")
    numbers = {int(n) for n in re.findall(r"\d+", said)}
    assert "JOURNAL" in said and {line, line - 1} <= numbers, said
    assert "--resume FOLDER" in said and "--out" in said, said
    assert all(str(v) in said for k, v in why[1].items() if k != "kind"), said
    if lang != "en":
        said = str(info.value).replace(str(tmp_path), "")
        assert SCRIPTS[lang].search(said.split("(")[0]) and SCRIPTS[lang].search(said.split(")")[-1])


@pytest.mark.parametrize("lang", SCRIPTS)
def test_settings_that_cannot_work_are_said_in_chinese_and_japanese(lang):
    from nnlearn import TrainSettings

    for changes in ({"optimizer": "adam", "eps": 1e-50, "dtype": "float32"}, {"optimizer": "sgd", "beta1": 0.9}):
        with i18n.use(lang), pytest.raises(InputError) as info:
            TrainSettings(**changes)
        said = str(info.value)
        assert SCRIPTS[lang].search(said) and ("float32" in said if "eps" in changes else "beta1" in said), said
    with i18n.use(lang), pytest.raises(InputError) as info:
        TrainSettings().replace(colour="red")
    assert SCRIPTS[lang].search(str(info.value)) and "colour" in str(info.value)


@pytest.mark.parametrize("lang", LANGS)
def test_a_diverged_network_and_a_point_outside_fs_domain_are_said_in_the_current_language(lang):
    import numpy as np

    from nnlearn import TwoLayerNet, derivative
    from nnlearn.base.errors import DivergenceError

    net = TwoLayerNet(4, 3, 2, seed=0)
    net.params["W1"].flat[0] = np.nan
    net.params["b2"].flat[0] = np.inf
    with i18n.use(lang), pytest.raises(DivergenceError) as diverged:
        net.accuracy(np.random.default_rng(0).random((4, 4)), np.array([0, 0, 0, 1]))
    with i18n.use(lang), pytest.warns(RuntimeWarning) as outside, np.errstate(invalid="ignore"):
        assert np.isnan(derivative(np.log, -1.0))
    said = (str(diverged.value), str(outside[-1].message))
    assert "W1" in said[0] and "b2" in said[0] and "x=-1" in said[1]
    if lang == "en":
        assert said[0].startswith("the network's W1 and b2 hold NaN or inf")  # the plural
        assert "f returned NaN at x=-1" in said[1]
    else:
        assert all(SCRIPTS[lang].search(s) for s in said), said
