"""House rules checked on the source: modules talk through public names; the README maps every module."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "nnlearn"
README = Path(__file__).resolve().parent.parent / "README.md"


@functools.lru_cache(maxsize=None)
def parsed(source: str) -> ast.Module:
    """The syntax tree of ``source``, parsed once for the three checks that read every module."""
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
            # ``_`` is gettext's public name for "translate this" (nnlearn.i18n), not a private one.
            found += [f"line {node.lineno}: from {node.module} import {a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__") and a.name != "_"]
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


# -- the house's shape: layers, circles, sizes ---------------------------------------------------

#: The layers of the house, lowest first. A module may import from its own layer and those below,
#: never from a layer above; a package (``engines``, ``datasets``, ...) is one room.
LAYERS = [
    ["errors"],
    ["_io", "_validation", "constraints", "i18n", "figtext", "templating"],
    ["functions", "losses", "derivatives", "datasets", "optimizer", "evaluation", "images", "callbacks", "threads"],
    ["layers", "gradient"],
    ["engines", "simple_net", "saving", "plots"],
    ["multi_layer_net"],
    ["two_layer_net"],
    ["networks", "gradient_check", "settings", "plane_loss"],
    ["checkpoints"],
    ["trainer", "live"],
    ["training"],
    ["runs", "overfitting", "routes", "trajectory", "landscape", "rundir"],
    ["sweep", "report", "check"],
    ["board"],
    ["cli", "__main__", "__init__"],
]
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def room_of(module: str) -> str:
    """The room of ``nnlearn.a.b``: ``a`` (the package ``nnlearn`` itself is ``__init__``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> set[str]:
    """The nnlearn modules ``path`` imports, also inside functions (``from nnlearn import engines`` is
    ``nnlearn.engines``; ``from nnlearn import X`` of a name is the package ``nnlearn``)."""
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    package = parts if parts[-1] == "__init__" else parts[:-1]
    if parts[-1] == "__init__":
        package = parts[:-1]
    found = set()
    for node in ast.walk(parsed(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "nnlearn"}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            if module.split(".")[0] != "nnlearn":
                continue
            subs = [f"{module}.{a.name}" for a in node.names if (SRC.parent / f"{module}.{a.name}".replace(".", "/")).exists()
                    or (SRC.parent / (f"{module}.{a.name}".replace(".", "/") + ".py")).exists()]
            found |= set(subs) if len(subs) == len(node.names) else {module, *subs}
    return found


def module_graph() -> dict[str, set[str]]:
    graph = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.parts[-1] == "__init__" else rel.parts)
        graph[name] = imports_of(path) - {name}
    return graph


def upward_imports(graph, layers) -> list[str]:
    level = {room: i for i, rooms in enumerate(layers) for room in rooms}
    found = []
    for module, targets in sorted(graph.items()):
        here = level.get(room_of(module))
        for target in sorted(targets):
            there = level.get(room_of(target))
            if here is None or there is None:
                found.append(f"{module} or {target} has no layer in LAYERS")
            elif there > here:
                found.append(f"{module} imports {target}, a layer above it")
    return sorted(set(found))


def circles(graph) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan's algorithm): each one a circle of imports."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def long_functions(source: str, limit: int) -> list[str]:
    """Functions with more than ``limit`` lines of code (no docstring, blank or comment lines)."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(parsed(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        skip = set()
        first = node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            skip = set(range(first.lineno, first.end_lineno + 1))
        code = [i for i in range(node.lineno, node.end_lineno + 1)
                if i not in skip and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#")]
        if len(code) > limit:
            found.append(f"{node.name} ({len(code)} lines)")
    return found


def test_the_checks_find_what_they_look_for():
    graph = {"nnlearn.a": {"nnlearn.b"}, "nnlearn.b": {"nnlearn.c"}, "nnlearn.c": {"nnlearn.a"}, "nnlearn.d": set()}
    assert circles(graph) == [["nnlearn.a", "nnlearn.b", "nnlearn.c"]]
    assert upward_imports({"nnlearn.a": {"nnlearn.b"}, "nnlearn.b": set()}, [["a"], ["b"]]) == [
        "nnlearn.a imports nnlearn.b, a layer above it"]
    body = "\n".join(f"    x{i} = {i}" for i in range(60))  # with the def line: 61 lines of code
    assert long_functions(f'def f():\n    """Doc."""\n    # why\n{body}\n', 60) == ["f (61 lines)"]
    assert long_functions(f'def f():\n    """Doc\n\n    more."""\n{body[: body.rindex(chr(10))]}\n', 60) == []


def test_no_import_circles_and_nothing_imported_upward():
    graph = module_graph()
    assert circles(graph) == []
    assert upward_imports(graph, LAYERS) == []


def test_modules_and_functions_are_small():
    too_long = {}
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text()
        problems = long_functions(source, MAX_FUNCTION_LINES)
        if len(source.splitlines()) > MAX_MODULE_LINES:
            problems.append(f"the module has {len(source.splitlines())} lines")
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
                        is_package and importlib.util.find_spec(f"{node.module}.{alias.name}")):
                    missing.append(f"{node.module}.{alias.name}")
    return missing


def test_the_import_check_finds_a_renamed_name():
    assert missing_imports("def f():\n    from nnlearn.trainer import build_trainer, Trainer\n") == [
        "nnlearn.trainer.build_trainer"]
    assert missing_imports("from nnlearn.datasets import mnist, load_mnist\n") == []


def test_every_bench_imports_names_that_exist():
    found = {path.name: missing_imports(path.read_text()) for path in sorted(BENCH.glob("*.py"))}
    assert len(found) >= 10
    assert {name: names for name, names in found.items() if names} == {}


def test_the_per_operation_bench_runs_every_operation_of_the_step():
    """``bench/engine_speed.py --per-op`` rebuilds the step from the fused engine's buffers by name: a
    renamed buffer would break it where no import check looks. Each of its operations runs once here
    (on synthetic digits; the bench itself needs real MNIST and half a minute)."""
    import importlib.util

    import numpy as np
    from mnist_tiny import synthetic_mnist
    from nnlearn.settings import recipe_settings
    from nnlearn.training import build_trainer

    spec = importlib.util.spec_from_file_location("engine_speed", BENCH / "engine_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (x, t), _ = synthetic_mnist()
    trainer = build_trainer(recipe_settings("book", iters=10), x, t, n_classes=10, callbacks=[], threads=1)
    with np.errstate(over="ignore", invalid="ignore"):
        trainer.step()
        ops = bench.step_ops(trainer)
        for group, name, fn in ops:
            fn()
    assert len(ops) == 18 and {group for group, _, _ in ops} == {
        "batch", "product", "forward", "softmax", "backward", "update"}
