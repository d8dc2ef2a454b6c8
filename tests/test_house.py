"""House rules checked on the source: modules talk through public names; the README maps every module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "nnlearn"
README = Path(__file__).resolve().parent.parent / "README.md"


def private_uses(source: str) -> list[str]:
    """``from m import _x``, and ``obj._x`` where ``_x`` is not defined in this module (a module may
    use its own classes' private members); dunder names are public protocol."""
    tree = ast.parse(source)
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
            found += [f"line {node.lineno}: from {node.module} import {a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if node.attr not in own and not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_scan_finds_private_uses():
    source = "from nnlearn.trainer import _check_data\nnet._loss(x)\nself._ok\nclass A:\n    def _mine(self): pass\nA()._mine()\n"
    assert private_uses(source) == ["line 1: from nnlearn.trainer import _check_data", "line 2: net._loss"]


def test_no_module_uses_another_modules_private_members():
    offences = {str(p.relative_to(SRC)): private_uses(p.read_text()) for p in sorted(SRC.rglob("*.py"))}
    assert {k: v for k, v in offences.items() if v} == {}


def test_the_readme_maps_every_module():
    text = README.read_text()
    section = text[text.index("## Map of the code"):]
    section = section[: section.find("\n## ", 4)] if "\n## " in section[4:] else section
    listed = set(re.findall(r"`(nnlearn/[\w/]+\.py|nnlearn/[\w/]+/)`", section))
    modules = {f"nnlearn/{p.relative_to(SRC)}" for p in SRC.rglob("*.py")
               if p.name not in ("__init__.py", "__main__.py")}
    packages = {f"nnlearn/{p.parent.relative_to(SRC)}/" for p in SRC.rglob("__init__.py") if p.parent != SRC}
    assert modules | packages | {"nnlearn/__init__.py"} == listed


def test_every_public_name_of_before_the_redesign_still_imports():
    import nnlearn

    before = """DivergenceError NnlearnError identity_function relu sigmoid sigmoid_grad softmax step_function
        cross_entropy_error mean_squared_error gradient_descent numerical_diff numerical_gradient DATASETS
        DatasetError load_dataset load_fashion_mnist load_mnist DerivativeResult derivative MultiLayerNet
        SimpleNet TwoLayerNet gradient_check load_network SGD AdaGrad Adam Momentum Trainer train_arrays""".split()
    assert [name for name in before if not hasattr(nnlearn, name)] == []
