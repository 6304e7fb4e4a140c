"""No module of the project reaches into another module's private names (``_something``).

Walks the AST of every module under shoes_generator/, serving/, training/ and data_tools/ and
flags ``from <project module> import _name`` (relative imports resolved; a private submodule
counts too), ``import <project>._module``, and ``<project module alias>._name`` attribute access.
Dunder names (``__version__``) are public.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("shoes_generator", "serving", "training", "data_tools")


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_project_module(dotted: str) -> bool:
    """Whether `dotted` names a module or package file of the project."""
    if not dotted or dotted.split(".")[0] not in PACKAGES:
        return False
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def dotted_attribute(node: ast.Attribute) -> list[str] | None:
    """``a.b.c`` -> ``["a", "b", "c"]`` (None when the chain does not start at a name)."""
    chain = [node.attr]
    value = node.value
    while isinstance(value, ast.Attribute):
        chain.append(value.attr)
        value = value.value
    return [value.id, *reversed(chain)] if isinstance(value, ast.Name) else None


def private_uses(path: Path, source: str | None = None) -> list[str]:
    """``"<file>:<line>: <what>"`` for each private name `path` (or `source`, read as that file) takes from another project module."""
    module = module_name(path)
    tree = ast.parse(path.read_text() if source is None else source, str(path))
    found, aliases = [], {}  # alias -> the project module it names
    where = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in PACKAGES:
                    continue
                if any(is_private(part) for part in alias.name.split(".")):
                    found.append(f"{where}:{node.lineno}: import {alias.name}")
                bound = alias.asname or alias.name.split(".")[0]
                aliases[bound] = alias.name if alias.asname else bound
        elif isinstance(node, ast.ImportFrom):
            source = absolute(node, module, path.name == "__init__.py")
            if source.split(".")[0] not in PACKAGES or source == module:
                continue
            for alias in node.names:
                if is_private(alias.name) or any(is_private(part) for part in source.split(".")):
                    found.append(f"{where}:{node.lineno}: from {source} import {alias.name}")
                elif is_project_module(f"{source}.{alias.name}"):
                    aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            chain = dotted_attribute(node)
            if chain and chain[0] in aliases:
                owner = ".".join([aliases[chain[0]], *chain[1:-1]])
                if is_project_module(owner) and owner != module:
                    found.append(f"{where}:{node.lineno}: {'.'.join(chain)}")
    return found


def project_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_the_walk_sees_every_package_and_resolves_relative_imports():
    assert {path.relative_to(ROOT).parts[0] for path in project_files()} == set(PACKAGES)
    node = ast.parse("from ..data import pipeline").body[0]
    assert absolute(node, "shoes_generator.export.inputs", False) == "shoes_generator.data"
    assert absolute(ast.parse("from .inputs import x").body[0], "shoes_generator.export", True) == "shoes_generator.export.inputs"


def test_the_checker_catches_each_kind_of_private_use():
    where = ROOT / "shoes_generator" / "export" / "inputs.py"  # A real module path, so relative names resolve; the text is ours.
    text = (
        "import shoes_generator.data.pipeline as pipe\n"
        "from shoes_generator.data import pipeline\n"
        "from shoes_generator.export.signatures import _hidden, __doc__\n"
        "from .signatures import _also\n"
        "pipe._pad_geometry\n"
        "pipeline._pad_geometry\n"
        "pipeline.__name__\n"
        "self._mine\n"
        "import numpy as np\n"
        "np._private\n"
    )
    uses = private_uses(where, text)
    assert [use.split(": ", 1)[1] for use in uses] == [
        "from shoes_generator.export.signatures import _hidden",
        "from shoes_generator.export.signatures import _also",
        "pipe._pad_geometry",
        "pipeline._pad_geometry",
    ]


def test_no_module_imports_a_private_name_from_another_module():
    offenders = [use for path in project_files() for use in private_uses(path)]
    assert not offenders, "private names used across modules:\n" + "\n".join(offenders)
