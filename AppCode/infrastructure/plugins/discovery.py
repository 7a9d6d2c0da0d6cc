"""Where plugins come from (docs/plugins.md): the built-ins in the top-level ``plugins`` package,
the ``scriptbatch.plugins`` entry-point group of installed distributions, and single files or
packages dropped into ``<data-dir>/plugins/``. Nothing is imported here: each candidate carries
a ``load`` the plugin service calls, so an import error belongs to that one plugin."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

import plugins as builtin_plugins
from AppCode.core.domain.ports import PluginCandidate

__all__ = ["ENTRY_POINT_GROUP", "LOCAL_PACKAGE", "discover_plugins"]

ENTRY_POINT_GROUP = "scriptbatch.plugins"
LOCAL_PACKAGE = "scriptbatch_local_plugins"  # the module namespace of the data directory's plugins


def discover_plugins(local_dir: Path) -> list[PluginCandidate]:
    """Every plugin found, built-ins first; names repeat only if two sources use one name."""
    return [*_builtins(), *_entry_points(), *_local(local_dir)]


def _builtins() -> list[PluginCandidate]:
    found = []
    for module in pkgutil.iter_modules(builtin_plugins.__path__):
        qualified = f"{builtin_plugins.__name__}.{module.name}"
        found.append(
            PluginCandidate(module.name, "built-in", lambda q=qualified: importlib.import_module(q))
        )
    return found


def _entry_points() -> list[PluginCandidate]:
    found = []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry.dist.name if entry.dist else "an unknown distribution"
        found.append(PluginCandidate(entry.name, f"entry point of {dist}", entry.load))
    return found


def _local(local_dir: Path) -> list[PluginCandidate]:
    if not local_dir.is_dir():
        return []
    found = []
    for path in sorted(local_dir.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        if path.is_file() and path.suffix == ".py":
            found.append(PluginCandidate(path.stem, str(path), lambda p=path: _load_file(p)))
        elif path.is_dir() and (path / "__init__.py").is_file() and path.name.isidentifier():
            found.append(PluginCandidate(path.name, str(path), lambda p=path: _load_file(p)))
    return found


def _load_file(path: Path) -> ModuleType:
    """Import a file or package from the data directory afresh (a re-enable after a fix
    reads the new code), as ``scriptbatch_local_plugins.<name>``."""
    if LOCAL_PACKAGE not in sys.modules:
        namespace = ModuleType(LOCAL_PACKAGE)
        namespace.__path__ = []
        sys.modules[LOCAL_PACKAGE] = namespace
    name = f"{LOCAL_PACKAGE}.{path.stem if path.is_file() else path.name}"
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[loaded]
    if path.is_dir():
        spec = importlib.util.spec_from_file_location(
            name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
