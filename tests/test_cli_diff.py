"""``nnlearn diff`` and ``nnlearn demo rounding``: output, refusals (exit 2), figures."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nnlearn.cli import main
from nnlearn.common.derivatives.rounding import rounding_errors

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_book_function(capsys):
    code, out, err = run(capsys, "diff", "0.01*x**2 + 0.1*x", "--at", "5")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "f(x) = 0.01*x**2 + 0.1*x"
    assert lines[1] == "f at x=5.0 = 0.75"
    assert lines[2].startswith("f'(5.0) = 0.2   (complex step, estimated error ")
    assert lines[2].endswith(", 4 evaluations of f)")


def test_diff_with_the_books_method_and_step_gives_the_books_number(capsys):
    code, out, _ = run(capsys, "diff", "0.01*x**2 + 0.1*x", "--at", "5", "--method", "central", "--h", "1e-4")
    assert code == 0
    assert "f'(5.0) = 0.1999999999990898   (central difference" in out
    code, out, _ = run(capsys, "diff", "0.01*x**2 + 0.1*x", "--at", "10", "--method", "central", "--h", "1e-4")
    assert "f'(10.0) = 0.2999999999986347" in out


def test_diff_partial_derivatives_and_gradient(capsys):
    code, out, _ = run(capsys, "diff", "x0**2 + x1**2", "--at", "3,4")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "f(x0, x1) = x0**2 + x1**2"
    assert lines[1] == "f at x0=3.0, x1=4.0 = 25.0"
    assert lines[2].startswith("df/dx0 = 6.0   (")
    assert lines[3].startswith("df/dx1 = 8.0   (")
    assert lines[4] == "gradient = [6.0, 8.0]"
    code, out, _ = run(capsys, "diff", "x*y**2", "--at", "y=2, x=3")
    assert "df/dx = 4.0" in out and "df/dy = 12.0" in out


@pytest.mark.parametrize("method", ["auto", "complex", "richardson"])
def test_diff_methods_and_constants_in_at(capsys, method):
    code, out, _ = run(capsys, "diff", "sin(x)", "--at", "pi/3", "--method", method)
    assert code == 0
    value = float(out.splitlines()[2].split("=")[1].split()[0])
    assert abs(value - 0.5) <= 1e-13


def test_diff_non_analytic_formula_uses_richardson(capsys):
    code, out, _ = run(capsys, "diff", "x*abs(x) + relu(x)", "--at", "2")
    assert code == 0
    assert "f'(2.0) = 5.0   (Richardson extrapolation" in out


def test_diff_at_a_kink_warns_on_one_line(capsys):
    code, out, err = run(capsys, "diff", "abs(x)", "--at", "0")
    assert code == 0
    assert err.count("\n") == 1 and err.startswith("nnlearn: warning: f does not look differentiable at x=0")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["9**9**9**9"], "exponent 3.8742e+08 is too large"),
        (["__import__('os').system('echo hacked')"], "unexpected character"),
        (["x.__class__"], "unexpected character '.'"),
        (["exec(x)"], "unknown function 'exec'"),
        (["x" + "+x" * 600], "characters long"),
        (["(" * 200 + "x" + ")" * 200], "nested too deeply"),
        (["x", "--at", "1,2"], "1 variable(s) (x) but --at gives 2 value(s)"),
        (["x0*x1", "--at", "3"], "write --at 3,4"),
        (["x", "--at", "os"], "--at: unknown name 'os'"),
        (["x", "--at", "1e999"], "--at: the number '1e999' is too large"),
        (["x", "--at", "x=1,2"], "mixes named and plain values"),
        (["x", "--at", "y=1"], "not a variable of the formula"),
        (["x0*x1", "--at", "1,2", "--plot", "p.png"], "needs a formula of one variable"),
    ],
)
def test_diff_refusals_exit_2_on_one_line(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    if "--at" not in argv:
        argv = [*argv, "--at", "1"]
    code, out, err = run(capsys, "diff", *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("nnlearn: error: ") and err.count("\n") == 1
    assert message in err
    assert not (tmp_path / "p.png").exists()


def test_diff_outside_the_domain_exits_1(capsys):
    code, out, err = run(capsys, "diff", "log(x)", "--at", "-1")
    assert code == 1
    assert "nan at x=-1.0" in err and "domain" in err, err


@pytest.mark.parametrize("flag", [["--method", "eval"], ["--h", "0"], ["--h", "nan"], ["--h", "inf"]])
def test_an_unknown_method_or_a_step_not_above_0_is_an_argparse_error(capsys, flag):
    with pytest.raises(SystemExit) as info:
        main(["diff", "x", "--at", "1", *flag])
    assert info.value.code == 2
    assert f"argument {flag[0]}: " in capsys.readouterr().err


def test_console_script_refuses_at_once():
    # A hostile formula is refused by the parser, never evaluated: the timeout is the deadline.
    proc = subprocess.run(
        [sys.executable, "-m", "nnlearn", "diff", "9**9**9**9", "--at", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("nnlearn: error: the exponent") and proc.stderr.count("\n") == 1


def test_diff_plot_writes_png(capsys, tmp_path):
    target = tmp_path / "sub" / "tangent.png"
    code, out, _ = run(capsys, "diff", "0.01*x**2 + 0.1*x", "--at", "5", "--plot", str(target))
    assert code == 0
    assert out.splitlines()[-1] == f"wrote {target}"
    data = target.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert [p.name for p in target.parent.iterdir()] == ["tangent.png"]  # no temporary left behind


def test_demo_rounding_writes_figure_and_table(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "rounding", "--out", str(tmp_path))
    assert code == 0
    data = (tmp_path / "rounding.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 30_000
    lines = out.splitlines()
    row = next(line for line in lines if line.startswith("1e-04 "))
    # float64 forward, central, complex at the book's step; the central one is the book's 0.1999999999990898.
    assert row.split()[2:5] == ["1.0e-06", "9.1e-13", "2.8e-17"]
    row = next(line for line in lines if line.startswith("1e-50 "))
    assert row.split()[2:5] == ["2.0e-01", "2.0e-01", "0.0e+00"] and row.split()[6:9] == ["nan", "nan", "nan"]


def test_demo_rounding_is_one_section_of_demo_all(capsys, tmp_path):
    from nnlearn.cli.demo import SECTIONS, demo_rounding

    assert SECTIONS["rounding"][0] is demo_rounding
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("    rounding")] == [
        "rounding"
    ]
    # `demo all` runs it in the chapter's order: test_cli_demo's test of `demo all` checks that.


def test_rounding_errors_show_the_v():
    hs = np.logspace(-1, -20, 191)
    fwd = rounding_errors(hs)["forward"]
    best = hs[np.argmin(fwd)]
    assert 1e-10 < best < 1e-6  # the bottom of the V, near sqrt(eps)
    assert fwd[0] > 1e3 * fwd.min() and fwd[-1] > 1e3 * fwd.min()  # truncation left, rounding right
    assert rounding_errors([1e-50])["forward"][0] == 0.2  # the seed example: exactly 0 returned
    assert abs(0.2 - 0.1999999999990898 - rounding_errors([1e-4])["central"][0]) < 1e-18
    assert np.all(rounding_errors(hs)["complex"] <= 3e-17)
    assert np.all(rounding_errors(hs, np.float32)["complex"] <= 3e-8)
    assert np.isnan(rounding_errors([1e-50], np.float32)["forward"][0])  # float32(1e-50) == 0: 0/0
    with pytest.raises(ValueError, match="dtype"):
        rounding_errors([1e-3], np.float16)
