"""The build: mypyc compiles the modules pyproject names, and a test run uses the build it
claims to (`make unit` the editable plain-Python tree, `make unit-compiled` the wheel)."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import pickle
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from types import ModuleType

import edi_guard
from edi_guard.model.claim import Party
from edi_guard.rules.base import Finding, Outcome

REPO = Path(__file__).resolve().parents[1]
EXPECT_COMPILED = os.environ.get("EDI_GUARD_EXPECT_COMPILED") == "1"


def _setup_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("edi_guard_setup_script", REPO / "setup.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _compiled_sources() -> list[str]:
    sources: list[str] = _setup_script().compiled_modules()
    return sources


def test_the_compiled_list_names_the_hot_path() -> None:
    sources = _compiled_sources()
    for expected in (
        "edi_guard/x12/tokenizer.py",
        "edi_guard/assemble.py",
        "edi_guard/model/mapping.py",
        "edi_guard/engine.py",
        "edi_guard/rules/tpi007_muscle_count.py",
        "edi_guard/validate/validator.py",
        "edi_guard/reports/ack277.py",
    ):
        assert expected in sources
    assert all((REPO / source).is_file() for source in sources)
    assert not any(source.endswith("__init__.py") for source in sources)


def test_no_extension_module_sits_in_the_source_tree() -> None:
    # One built in place (setup.py build_ext --inplace) would be imported instead of its
    # edited .py beside it, silently running old code.
    assert sorted((REPO / "edi_guard").rglob("*.so")) == []


def test_this_run_uses_the_build_it_expects() -> None:
    package_dir = Path(edi_guard.__file__).resolve().parent
    for source in _compiled_sources():
        module = importlib.import_module(source.removesuffix(".py").replace("/", "."))
        loaded = Path(module.__file__ or "")
        if EXPECT_COMPILED:
            assert loaded.name.endswith(tuple(EXTENSION_SUFFIXES)), f"{source} is not compiled"
            # The wheel ships each source beside its extension: equal to this tree's source
            # means the extension was built from it (make rebuilds when a source changes).
            shipped = loaded.with_name(Path(source).name)
            assert shipped.read_bytes() == (REPO / source).read_bytes(), f"{source}: stale build"
        else:
            assert loaded.suffix == ".py", f"{source} runs as {loaded.name}"
    if EXPECT_COMPILED:
        assert package_dir != REPO / "edi_guard", "the compiled run imports the source tree"
        # Nothing else compiled: a leftover extension of an older build would be imported
        # instead of its module's current source.
        extensions = {
            str(path.relative_to(package_dir.parent)).split(".", 1)[0] + ".py"
            for suffix in EXTENSION_SUFFIXES
            for path in package_dir.rglob(f"*{suffix}")
        }
        assert extensions == set(_compiled_sources())


def test_compiled_frozen_classes_pickle_every_field() -> None:
    # Outcomes carry these through the pipeline's spool, batch workers and Spark. Each
    # defines __reduce__ (mypyc's frozen classes cannot be unpickled attribute by attribute):
    # a field added to the class but not to __reduce__ would be dropped silently.
    samples: list[object] = [
        Party("IL", "LAST", "FIRST", "MI", "ID"),
        Finding("TPI007", Outcome.CORRECT, "message", "2", ("A7:453",), "source", 17),
    ]
    for sample in samples:
        assert len(sample.__reduce__()[1]) == len(dataclasses.fields(sample))  # type: ignore[arg-type]
        assert pickle.loads(pickle.dumps(sample)) == sample
