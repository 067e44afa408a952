"""The package shows its architecture: each layer imports only from its own layer or the layers
below it, and no function grows past 60 lines (docstring included)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "planner"

# bottom up; a module belongs to the first prefix that matches it ("planner" itself holds only the
# version and imports nothing, which a test below keeps so)
LAYERS = [
    ("planner.errors", "planner.timing", "planner.interrupt", "planner.logs", "planner.owner"),
    ("planner.problem", "planner.inputs", "planner.formats"),
    ("planner.model",),
    ("planner.solver",),
    ("planner.results", "planner.audit"),
    ("planner.pipeline",),
    ("planner.studies",),
    ("planner.export",),
    ("planner.cli", "planner.__main__"),
]
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int | None:
    if module == "planner":
        return 0
    for level, prefixes in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return level
    return None


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every ``import planner...`` and ``from planner... import`` anywhere in the file."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("planner")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("planner"):
            found.append((node.lineno, node.module))
    return found


def python_files():
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    unplaced = [module_name(p) for p in python_files() if layer_of(module_name(p)) is None]
    assert not unplaced, f"add these modules to LAYERS: {unplaced}"


def test_imports_only_point_down():
    upward = []
    for path in python_files():
        module = module_name(path)
        own = layer_of(module)
        for line, target in imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            level = layer_of(target)
            if level is not None and level > own:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_the_package_init_imports_nothing():
    assert imported_modules(ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))) == []


def test_no_function_is_longer_than_60_lines():
    long = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split these functions into named steps:\n" + "\n".join(long)


def test_the_layer_checker_sees_an_upward_import():
    tree = ast.parse("from planner.export.folder import write_outputs\nimport planner.cli\n")
    assert [layer_of(m) for _, m in imported_modules(tree)] == [7, 8]
    assert layer_of("planner.inputs.geo") < layer_of("planner.model.arrays") < layer_of("planner.solver.highs")
