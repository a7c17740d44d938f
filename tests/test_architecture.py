"""The house rules of shared/DESIGN.md, checked on the source with `ast` (nothing is imported):

- the import graph of core/ and dashboard/ has no cycle (late imports inside functions count too,
  and so do imports under `if TYPE_CHECKING:`: a type a module names is a dependency all the same);
- the layers point one way: every module of the lab has a layer (LAYERS, lowest first) and imports
  only from its own layer or below, so the library never imports core/charts or core/cli;
- core/ imports neither streamlit nor dashboard/; only core/charts imports Altair;
- no private name of another package is imported, and only dashboard/app.py edits sys.path;
- core/ grows by concern: each folder of core/ is a package whose docstring says its concern; no
  module of the lab shadows the standard library. (No cap on a count of modules.)

Each rule is a function over a graph, so the tests at the bottom prove they can fail: they feed
them a small tree with the fault in it.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LIB_EXCLUDED = ("core.charts", "core.cli")
# The lab's layers, lowest first. A module imports only from its own layer or a lower one; a new
# module or folder gets a line here (the test below fails until it has one).
LAYERS = (
    ("core.registry",),  # the registries of tasks and model kinds, filled by their modules
    ("core.config", "core.owndata"),  # configs and their rules (they read the registries for their choices);
    # a learner's own CSV files, checked and kept by hash in the data folder
    ("core.tasks",),  # the tasks and the data they read
    ("core.models", "core.seq2seq"),  # models (one label; an encoder-decoder), built for a task from a config
    ("core.results",),  # runs as plain data, outcomes and verdicts
    ("core.shipped",),  # the shipped reference runs, read behind the store
    ("core.inspection", "core.store", "core.trainer", "core.runio"),  # probes, storage, training
    ("core.cell", "core.belt"),  # a cell's step and the gradient along its belt, read with the probes
    ("core.executors",),  # where runs train
    ("core.sweep",),  # grids of runs
    ("core.jobs", "core.share"),  # runs and sweeps as background jobs; how sessions share the worker
    ("core.story", "core.reference"),  # the tour, the interview, the real-data
    # checks, told from runs; building and proving the reference trains the tour's runs
    ("core.charts",),  # the only Altair code (core.charts.attention: where a decoder looked)
    ("core.cli", "core.__main__"),  # the command line
    ("dashboard",),  # the pages
)
ROOT_PACKAGE = "core"  # core/__init__.py imports tasks and models to fill the registries


def layer_of(module: str, layers=LAYERS) -> int | None:
    best = None
    for rank, prefixes in enumerate(layers):
        for p in prefixes:
            if _in(module, p) and (best is None or len(p) > best[1]):
                best = (rank, len(p))
    return None if best is None else best[0]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path, known: set[str]) -> list[tuple[str, str]]:
    """(imported module, imported name or '') for every import anywhere in the file, those under
    `if TYPE_CHECKING:` included (they name what the module depends on)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((sub, "") if sub in known else (base, a.name))
    return out


def source_files(root: Path, folders=("core", "dashboard")) -> list[Path]:
    return sorted(p for f in folders if (root / f).is_dir() for p in (root / f).rglob("*.py"))


def import_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, list[tuple[str, str]]]]:
    """(edges between the lab's own modules, every import of each module) for core/ and dashboard/."""
    files = source_files(root)
    known = {module_name(p, root) for p in files}
    raw = {module_name(p, root): imports_of(p, root, known) for p in files}
    edges = {m: {target for target, _ in imps if target in known and target != m} for m, imps in raw.items()}
    return edges, raw


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m)):
            return found
    return None


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_violations(raw: dict[str, list[tuple[str, str]]]) -> list[str]:
    bad = []
    for m, imps in raw.items():
        for target, name in imps:
            top = target.split(".")[0]
            where = f"{m} imports {target}{'.' + name if name else ''}"
            if _in(m, "core") and top in ("streamlit", "dashboard"):
                bad.append(f"{where}: core/ must not import streamlit or dashboard/")
            if top == "altair" and not _in(m, "core.charts"):
                bad.append(f"{where}: only core/charts imports Altair")
            if _in(m, "core") and not any(_in(m, p) for p in LIB_EXCLUDED) and m != "core.__main__":
                if any(_in(target, p) for p in LIB_EXCLUDED):
                    bad.append(f"{where}: the library must not import core/charts or core/cli")
            if _in(m, "core.charts") and _in(target, "core.cli"):
                bad.append(f"{where}: charts must not import the CLI")
    return bad


def layer_violations_of(edges: dict[str, set[str]], layers=LAYERS) -> list[str]:
    """Modules with no layer, and imports that point to a higher layer."""
    bad = []
    for m, targets in edges.items():
        if m == ROOT_PACKAGE:
            continue
        r = layer_of(m, layers)
        if r is None:
            bad.append(f"{m} has no layer: add it to LAYERS in tests/test_architecture.py")
            continue
        for t in sorted(targets):
            rt = layer_of(t, layers)
            if t != ROOT_PACKAGE and rt is not None and rt > r:
                bad.append(f"{m} (layer {r}) imports {t} (layer {rt}): imports point down the layers")
    return bad


def folded(edges: dict[str, set[str]], depth: int = 2) -> dict[str, set[str]]:
    """The graph an outside drawing at folder depth `depth` shows (pydeps --max-module-depth 2): each
    module folded into its first `depth` names (core.story.chapters.gap -> core.story)."""
    fold = (lambda m: ".".join(m.split(".")[:depth]))
    out: dict[str, set[str]] = {}
    for m, targets in edges.items():
        out.setdefault(fold(m), set()).update(fold(t) for t in targets if fold(t) != fold(m))
    return out


def split_folders(edges: dict[str, set[str]], layers=LAYERS, depth: int = 2) -> list[str]:
    """Folders whose modules sit in more than one layer (an arrow back up between them, when drawn)."""
    spans: dict[str, set[int]] = {}
    for m in edges:
        if m != ROOT_PACKAGE and (r := layer_of(m, layers)) is not None:
            spans.setdefault(".".join(m.split(".")[:depth]), set()).add(r)
    return [f"{f} spans layers {sorted(r)}" for f, r in sorted(spans.items()) if len(r) > 1]


def private_imports(raw: dict[str, list[tuple[str, str]]], own=("core", "dashboard", "tests")) -> list[str]:
    """Imports of another package's private module or name (`_something`)."""
    bad = []
    for m, imps in raw.items():
        for target, name in imps:
            if target.split(".")[0] in own or target == "__future__":
                continue
            if any(part.startswith("_") for part in target.split(".")) or name.startswith("_"):
                bad.append(f"{m} imports {target}{'.' + name if name else ''}")
    return bad


# --- the lab's own tree -----------------------------------------------------------------------
def test_no_import_cycle():
    edges, _ = import_graph(ROOT)
    assert "core.config" in edges and "dashboard.app" in edges  # the graph really was read
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_layers_point_one_way():
    edges, raw = import_graph(ROOT)
    assert layer_violations(raw) == []
    assert layer_violations_of(edges) == []


def test_folders_point_one_way_too():
    """What a drawing of the folders shows: each folder in one layer, no arrow up, no circle."""
    edges, _ = import_graph(ROOT)
    folders = folded(edges)
    assert "core.story" in folders and "core.shipped" in folders and "core.reference" in folders
    assert split_folders(edges) == []
    assert layer_violations_of(folders) == []
    cycle = find_cycle(folders)
    assert cycle is None, "folder cycle: " + " -> ".join(cycle)


def test_no_private_framework_names():
    _, raw = import_graph(ROOT)
    assert private_imports(raw) == []
    sys_path = [str(p.relative_to(ROOT)) for p in source_files(ROOT)
                if "sys.path" in p.read_text() and p != ROOT / "dashboard" / "app.py"]
    assert sys_path == [], "only dashboard/app.py sets up imports"
    assert not (ROOT / "dashboard" / "pages").exists(), "pages/ switches Streamlit to legacy multipage mode"


def test_core_grows_by_concern_and_shadows_nothing():
    for folder in sorted(p for p in (ROOT / "core").iterdir() if p.is_dir() and p.name != "__pycache__"):
        init = folder / "__init__.py"
        assert init.exists(), f"{folder.name}/ is not a package"
        assert ast.get_docstring(ast.parse(init.read_text())), f"core/{folder.name}/__init__.py must say its concern"
    stdlib = set(sys.stdlib_module_names)
    shadows = [str(p.relative_to(ROOT)) for p in source_files(ROOT, ("core",))
               if p.parent == ROOT / "core" and p.stem in stdlib]
    assert shadows == []


# --- the rules can fail --------------------------------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_a_cycle_through_a_late_import_is_caught(tmp_path):
    root = _tree(tmp_path, {
        "core/__init__.py": "",
        "core/inspection.py": "def f():\n    from core.charts import inside  # late, still a cycle\n",
        "core/charts/__init__.py": "",
        "core/charts/inside.py": "from core.inspection import f\n",
        "dashboard/app.py": "",
    })
    edges, raw = import_graph(root)
    assert find_cycle(edges) == ["core.charts.inside", "core.inspection", "core.charts.inside"]
    assert any("library must not import core/charts" in v for v in layer_violations(raw))


def test_type_checking_imports_are_edges(tmp_path):
    root = _tree(tmp_path, {
        "core/__init__.py": "",
        "core/config.py": "from core.tasks import TASKS\n",
        "core/tasks.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from core.config import X\n",
    })
    edges, _ = import_graph(root)
    assert find_cycle(edges) == ["core.config", "core.tasks", "core.config"]
    assert any("core.config (layer 1) imports core.tasks (layer 2)" in v for v in layer_violations_of(edges))


def test_a_module_without_a_layer_is_caught(tmp_path):
    root = _tree(tmp_path, {"core/__init__.py": "", "core/helpers.py": "from core.config import X\n",
                            "core/config.py": ""})
    edges, _ = import_graph(root)
    assert any(v.startswith("core.helpers has no layer") for v in layer_violations_of(edges))


@pytest.mark.parametrize("module,text,words", [
    ("core/store.py", "import streamlit as st\n", "must not import streamlit"),
    ("core/trainer.py", "from dashboard.components import x\n", "must not import streamlit or dashboard"),
    ("core/sweep.py", "import altair as alt\n", "only core/charts imports Altair"),
    ("core/export_lib.py", "from core.cli.args import add_config_args\n", "must not import core/charts or core/cli"),
])
def test_layer_rules_catch_wrong_arrows(tmp_path, module, text, words):
    root = _tree(tmp_path, {"core/__init__.py": "", module: text})
    _, raw = import_graph(root)
    assert any(words in v for v in layer_violations(raw))


def test_private_names_are_caught(tmp_path):
    root = _tree(tmp_path, {"dashboard/x.py": "from streamlit.elements.vega_charts import _altair_globals_lock\n"
                                              "from altair.utils._importers import vl_version_for_vl_convert\n"})
    _, raw = import_graph(root)
    assert len(private_imports(raw)) == 2


def test_a_folder_spanning_two_layers_is_caught(tmp_path):
    """The layout where one folder held both the reference's reader (below the store) and its builder
    (above the story): each module's imports point down, yet the folder spans two layers, and drawn as
    folders it points up and closes a circle."""
    layers = (("core.config",), ("core.reference",), ("core.store",), ("core.story", "core.reference.build"))
    root = _tree(tmp_path, {"core/__init__.py": "", "core/config.py": "",
                            "core/reference/__init__.py": "from core.config import X\n",
                            "core/reference/build.py": "from core.story import Y\n",
                            "core/store.py": "from core.reference import Z\n",
                            "core/story.py": "from core.store import W\n"})
    edges, _ = import_graph(root)
    assert layer_violations_of(edges, layers) == []  # module by module, nothing points up
    assert split_folders(edges, layers) == ["core.reference spans layers [1, 3]"]
    assert find_cycle(folded(edges)) is not None
