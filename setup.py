"""Compiles the hot modules with mypyc when building a wheel; the rest stays plain Python.

The package metadata lives in pyproject.toml, and so does the list of compiled modules
(`[tool.edi-guard] compiled`). Every compiled module is also plain, fully annotated Python
and runs unchanged without compiling:

- an editable install (`pip install -e .`) never compiles, so an extension module built in
  place can never shadow a later edit of its source;
- `EDI_GUARD_PURE=1 pip install .` builds without a C compiler: same behaviour, slower.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent

# setuptools also runs this file to read metadata (egg_info, dist_info); mypyc would
# type-check and translate every module each time. Only these commands build extensions.
BUILD_COMMANDS = {"bdist_wheel", "build", "build_ext", "install"}


def compiled_modules() -> list[str]:
    """The source files named by pyproject's ``[tool.edi-guard] compiled`` globs."""
    with (HERE / "pyproject.toml").open("rb") as config:
        patterns = tomllib.load(config)["tool"]["edi-guard"]["compiled"]
    found: set[str] = set()
    for pattern in patterns:
        # A package __init__ imports its modules, which import it back: mypyc then cannot
        # infer the module-level names the __init__ reads, so package inits stay Python.
        found.update(
            str(path.relative_to(HERE)) for path in HERE.glob(pattern) if path.name != "__init__.py"
        )
    return sorted(found)


def extension_modules() -> list[object]:
    if os.environ.get("EDI_GUARD_PURE") == "1" or not BUILD_COMMANDS.intersection(sys.argv[1:]):
        return []
    from mypyc.build import mypycify

    return list(mypycify(compiled_modules(), opt_level="3", debug_level="0"))


if __name__ == "__main__":  # setuptools runs this file as a script; tests import it
    setup(ext_modules=extension_modules())
