"""deploy/bytecode.py: unchecked-hash bytecode for the runtime's Python, beside each module."""

import importlib.util
import marshal
import zipfile
from pathlib import Path

import pytest

from deploy import bytecode


def write_zip(path: Path, *, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_bytecode_is_added_beside_each_module_as_unchecked_hash_pyc(tmp_path: Path) -> None:
    package = write_zip(
        tmp_path / "p.zip",
        entries={"handler.py": b"ANSWER = 42\n", "app/views.py": b"X = 1\n", "app/t.html": b"<p>"},
    )
    added = bytecode.zip_add_bytecode(package, python_version="3.13")

    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        pyc = archive.read("__pycache__/handler.cpython-313.pyc")
        assert archive.read("handler.py") == b"ANSWER = 42\n"
    assert added == 2
    assert names == {
        "handler.py",
        "app/views.py",
        "app/t.html",
        "__pycache__/handler.cpython-313.pyc",
        "app/__pycache__/views.cpython-313.pyc",
    }
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, source never checked
    code = marshal.loads(pyc[16:])  # noqa: S302 (bytecode this test just compiled)
    assert code.co_filename == "/var/task/handler.py"  # no build machine path inside
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102 (the module just compiled)
    assert namespace["ANSWER"] == 42


def test_bytecode_for_another_python_is_refused(tmp_path: Path) -> None:
    package = write_zip(tmp_path / "p.zip", entries={"handler.py": b"x = 1\n"})
    with pytest.raises(bytecode.BytecodeError, match=r"python3\.12 runtime .* not 3\.13"):
        bytecode.zip_add_bytecode(package, python_version="3.12")


def test_a_module_that_does_not_compile_fails_the_build_naming_it(tmp_path: Path) -> None:
    package = write_zip(tmp_path / "p.zip", entries={"ok.py": b"x = 1\n", "bad.py": b"def (:\n"})
    with pytest.raises(bytecode.BytecodeError, match=r"do not compile: bad\.py"):
        bytecode.zip_add_bytecode(package, python_version="3.13")


def test_the_runtime_names_its_python_version() -> None:
    assert bytecode.runtime_python("python3.13") == "3.13"
