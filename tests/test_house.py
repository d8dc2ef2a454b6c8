"""House rules checked on the source: modules talk through public names; the floors of pyproject.toml's
import-linter contracts hold; functions are short."""

from __future__ import annotations

import ast
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "nnlearn"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@functools.lru_cache(maxsize=None)
def parsed(source: str) -> ast.Module:
    """The syntax tree of ``source``, parsed once for the checks that read every module."""
    return ast.parse(source)


def private_uses(source: str) -> list[str]:
    """``from m import _x``, and ``obj._x`` where ``_x`` is not defined in this module (a module may
    use its own classes' private members); dunder names are public protocol."""
    tree = parsed(source)
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            own.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            # ``_`` is gettext's public name for "translate this" (nnlearn.base.i18n), not a private one.
            found += [
                f"line {node.lineno}: from {node.module} import {a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__") and a.name != "_"
            ]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if node.attr not in own and not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_scan_finds_private_uses():
    source = "from nnlearn.train.trainer import _check_data\nnet._loss(x)\nself._ok\nclass A:\n    def _mine(self): pass\nA()._mine()\n"
    assert private_uses(source) == ["line 1: from nnlearn.train.trainer import _check_data", "line 2: net._loss"]


def test_no_module_uses_another_modules_private_members():
    offences = {str(p.relative_to(SRC)): private_uses(p.read_text()) for p in sorted(SRC.rglob("*.py"))}
    assert {k: v for k, v in offences.items() if v} == {}


def test_every_public_name_of_before_the_redesign_still_imports():
    import nnlearn

    before = """DivergenceError NnlearnError identity_function relu sigmoid sigmoid_grad softmax step_function
        cross_entropy_error mean_squared_error gradient_descent numerical_diff numerical_gradient DATASETS
        DatasetError load_dataset load_fashion_mnist load_mnist DerivativeResult derivative MultiLayerNet
        SimpleNet TwoLayerNet gradient_check load_network SGD AdaGrad Adam Momentum Trainer train_arrays""".split()
    assert [name for name in before if not hasattr(nnlearn, name)] == []


# -- the house's shape: floors, circles, sizes -----------------------------------------------------

#: What stands at the top of ``src/nnlearn``, each named for what it holds; pyproject.toml's
#: import-linter contracts say which floor imports which.
TOP_LEVEL = ["__init__.py", "__main__.py", "base", "checker", "cli", "common", "datasets", "see", "sweep", "train"]
MAX_FUNCTION_LINES = 60


def test_the_top_of_the_package_is_its_floors():
    assert sorted(p.name for p in SRC.iterdir() if p.name != "__pycache__") == TOP_LEVEL


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter's contracts of pyproject.toml, held against the package under ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command as c; c()",
            "--config",
            str(PYPROJECT),
            "--no-cache",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_import_contracts_hold():
    result = lint_imports(SRC.parent)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


#: Imports that break a contract, each planted at the end of a module: (module, import, the import as
#: import-linter names it when it reports the contract broken).
PLANTS = [
    ("base/errors.py", "from nnlearn.train import trainer", "nnlearn.base.errors -> nnlearn.train.trainer"),
    (
        "common/functions.py",
        "from nnlearn.common import networks",
        "nnlearn.common.functions -> nnlearn.common.networks",
    ),
    ("see/templating.py", "from nnlearn import sweep", "nnlearn.see.templating -> nnlearn.sweep"),  # independent
]


def test_planted_upward_imports_break_the_contracts(tmp_path):
    shutil.copytree(SRC, tmp_path / "nnlearn", ignore=shutil.ignore_patterns("__pycache__", "locale", "static"))
    for module, line, _named in PLANTS:
        path = tmp_path / "nnlearn" / module
        path.write_text(path.read_text() + "\n" + line + "\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1 and "BROKEN" in result.stdout, result.stdout[-3000:]
    assert [named for _module, _line, named in PLANTS if named not in result.stdout] == []


def long_functions(source: str, limit: int) -> list[str]:
    """Functions of more than ``limit`` statements, its own def included (the docstring is not one), each
    counted once however the formatter wraps it: the length of the code, not of its layout."""
    found = []
    for node in ast.walk(parsed(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        first = body[0]
        doc = (
            isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
        )
        statements = 1 + sum(
            1 for n in ast.walk(node) if isinstance(n, ast.stmt) and n is not node and not (doc and n is first)
        )
        if statements > limit:
            found.append(f"{node.name} ({statements} statements)")
    return found


def test_the_length_check_finds_a_long_function():
    body = "\n".join(f"    x{i} = (\n        {i}\n    )" for i in range(60))  # with the def: 61 statements, 181 lines
    assert long_functions(f'def f():\n    """Doc."""\n    # why\n{body}\n', 60) == ["f (61 statements)"]
    assert long_functions(f'def f():\n    """Doc\n\n    more."""\n{body[: body.rindex("    x59")]}\n', 60) == []


def test_functions_are_small():
    too_long = {}
    for path in sorted(SRC.rglob("*.py")):
        problems = long_functions(path.read_text(), MAX_FUNCTION_LINES)
        if problems:
            too_long[str(path.relative_to(SRC))] = problems
    assert too_long == {}


# -- the benches: scripts outside the suite, so a renamed name would break them silently ------------

BENCH = SRC.parent.parent / "bench"


def missing_imports(source: str) -> list[str]:
    """``module.name`` for each ``from nnlearn... import name`` in ``source`` that does not resolve."""
    import importlib.util

    missing = []
    for node in ast.walk(parsed(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "nnlearn":
            module = importlib.import_module(node.module)
            is_package = hasattr(module, "__path__")  # whose submodules import by name too
            for alias in node.names:
                if not hasattr(module, alias.name) and not (
                    is_package and importlib.util.find_spec(f"{node.module}.{alias.name}")
                ):
                    missing.append(f"{node.module}.{alias.name}")
    return missing


def test_the_import_check_finds_a_renamed_name():
    assert missing_imports("def f():\n    from nnlearn.train.trainer import build_trainer, Trainer\n") == [
        "nnlearn.train.trainer.build_trainer"
    ]
    assert missing_imports("from nnlearn.datasets import mnist, load_mnist\n") == []


def test_every_bench_imports_names_that_exist():
    found = {path.name: missing_imports(path.read_text()) for path in sorted(BENCH.glob("*.py"))}
    assert len(found) >= 10
    assert {name: names for name, names in found.items() if names} == {}
