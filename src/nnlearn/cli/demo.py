"""``nnlearn demo SECTION``: the chapter's numbers and figures, section by section.

Each section prints the book's numbers exactly (``repr``) with a line of explanation and writes its
figure as a PNG into ``--out``. ``nnlearn demo all`` runs every section of this module. The
explanations are in the command's language (``--lang``); the numbers and code stay as they are.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from nnlearn.cli.diff import demo_rounding
from nnlearn.base.i18n import N_, _

DEFAULT_OUT = "nnlearn-demo"


def _header(title: str) -> None:
    print(f"\n== {title} ==")


def _wrote(path: Path) -> None:
    print("  " + _("wrote {path}", path=path))


def demo_losses(out: Path) -> None:
    from nnlearn.common.losses import cross_entropy_error, mean_squared_error

    _header(_("4.2 Loss functions: how badly the output y fits the target t"))
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    cases = {
        _("y most confident in class 2 (correct):"): np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]),
        _("y most confident in class 7 (wrong):"): np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]),
    }
    print("  t = one-hot(2)")
    for name, y in cases.items():
        print(f"  {name}")
        print(f"    mean_squared_error(y, t)  = {mean_squared_error(y, t)!r}")
        print(f"    cross_entropy_error(y, t) = {cross_entropy_error(y, t)!r}")
    print("  -> " + _("both losses are smaller when the network is confident in the right class."))

    print("  " + _("Arguments swapped (y one-hot, t the probabilities, 7 classes), as a widely read write-up does:"))
    y_swapped = np.eye(7)[2]
    t_swapped = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mse = mean_squared_error(y_swapped, t_swapped)
        cee = cross_entropy_error(y_swapped, t_swapped)
    print(f"    mean_squared_error  = {mse!r}")
    print(f"    cross_entropy_error = {cee!r}")
    print("  -> " + _("log(0 + 1e-7) = -16.1 on every class the one-hot y rules out, so the swapped cross-entropy is "
                      "large; nnlearn warned {n} times that the arguments look swapped.", n=len(caught)))


def demo_derivative(out: Path) -> None:
    from nnlearn.common.gradient import numerical_diff
    from nnlearn.common.plots import function_1, plot_tangent, save_figure

    _header(_("4.3.1-4.3.2 Numerical differentiation of f(x) = 0.01x^2 + 0.1x"))
    for x, true in ((5, 0.2), (10, 0.3)):
        d = numerical_diff(function_1, x)
        print(f"  numerical_diff(function_1, {x}) = {d!r}   "
              + _("(true slope {true}; error {error:.1e})", true=true, error=abs(d - true)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = numerical_diff(function_1, 5, h=10e-50, method="forward")
    print("  " + _("forward difference with h=10e-50: {value!r}", value=bad))
    print("    " + _("rounding error: 5 + 1e-49 == 5 in float64 (the spacing of floats at 5 is {spacing:.1e}),",
                     spacing=np.spacing(5.0)))
    print("    " + _("so f(x+h) - f(x) is exactly 0."))
    print(f"  numpy.float32(1e-50) == 0.0: {bool(np.float32(1e-50) == 0.0)!r}")
    print("    " + _("in float32 the step itself rounds to zero (the smallest float32 is about 1.4e-45)."))
    fwd = numerical_diff(function_1, 5, h=1e-4, method="forward")
    print("  " + _("forward difference with h=1e-4: {value!r}", value=fwd))
    print("    " + _("difference vs true slope: (f(x+h) - f(x)) / h is the slope at about x + h/2, an error of "
                     "order h;"))
    print("    " + _("the central difference (f(x+h) - f(x-h)) / 2h is centred on x, its error is of order h^2."))
    _wrote(save_figure(plot_tangent(), out / "tangent.png"))


def demo_partial(out: Path) -> None:
    from nnlearn.common.gradient import numerical_diff
    from nnlearn.common.plots import plot_surface, save_figure

    _header(_("4.3.3 Partial derivatives of f(x0, x1) = x0^2 + x1^2 at (3, 4)"))
    d0 = numerical_diff(lambda x0: x0 * x0 + 4.0**2.0, 3.0)
    d1 = numerical_diff(lambda x1: 3.0**2.0 + x1 * x1, 4.0)
    print(f"  df/dx0 = {d0!r}   " + _("(true 2*x0 = 6; x1 held at 4)"))
    print(f"  df/dx1 = {d1!r}   " + _("(true 2*x1 = 8; x0 held at 3)"))
    _wrote(save_figure(plot_surface(), out / "surface.png"))


def demo_gradient(out: Path) -> None:
    from nnlearn.common.gradient import numerical_gradient
    from nnlearn.common.plots import function_2, plot_gradient_field, save_figure

    _header(_("4.4 Gradient of f(x0, x1) = x0^2 + x1^2"))
    for point in ((3.0, 4.0), (0.0, 2.0), (3.0, 0.0)):
        g = numerical_gradient(function_2, np.array(point))
        print(f"  numerical_gradient(function_2, {list(point)}) = {g}   " + _("(exactly: {values})", values=g.tolist()))
    print("  -> " + _("the negative gradient points to the minimum at (0, 0); its length grows with the distance."))
    _wrote(save_figure(plot_gradient_field(), out / "gradient_field.png"))


def demo_descent(out: Path) -> None:
    from nnlearn.common.gradient import gradient_descent
    from nnlearn.common.plots import function_2, plot_descent_path, save_figure

    _header(_("4.4.1 Gradient descent on x0^2 + x1^2 from (-3, 4), 100 steps"))
    notes = {
        0.1: _("converges to the minimum (0, 0)"),
        10.0: _("learning rate too large: diverges"),
        1e-10: _("learning rate too small: barely moves"),
    }
    for lr, note in notes.items():
        x = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=lr, step_num=100)
        print(f"  lr={lr:g}: {x}   ({note})")
    _wrote(save_figure(plot_descent_path(), out / "descent_path.png"))


SECTIONS = {
    "losses": (demo_losses, N_("loss functions: mean squared error and cross-entropy")),
    "derivative": (demo_derivative, N_("numerical differentiation, and why h=1e-50 fails")),
    "rounding": (demo_rounding, N_("truncation against rounding error of numerical derivatives (figure and table)")),
    "partial": (demo_partial, N_("partial derivatives")),
    "gradient": (demo_gradient, N_("gradients and the field of negative gradients")),
    "descent": (demo_descent, N_("gradient descent and the learning rate")),
}


def _run(names):
    def run(args) -> int:
        from nnlearn.base.files import check_output_folder

        out = check_output_folder(args.out)  # before the first section prints: a wrong --out costs nothing
        for name in names:
            SECTIONS[name][0](out)
        return 0

    return run


def add_out_argument(parser) -> None:
    parser.add_argument(
        "--out", default=DEFAULT_OUT, metavar="DIR", help=f"folder for the figures (default: ./{DEFAULT_OUT})"
    )


def register(commands, demos) -> None:
    for name, (_section, help_text) in SECTIONS.items():
        p = demos.add_parser(name, help=help_text, description=help_text)
        add_out_argument(p)
        p.set_defaults(func=_run([name]))
    p = demos.add_parser("all", help="every section of the chapter's mathematics, in order")
    add_out_argument(p)
    p.set_defaults(func=_run(list(SECTIONS)))
