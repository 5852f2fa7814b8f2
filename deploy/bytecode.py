"""Bytecode for the Lambda package: an unchecked-hash .pyc beside every module of the zip.

Lambda unpacks the zip into a read-only /var/task, so Python cannot cache what it compiles: a
package without bytecode compiles Django from source on every cold start. Zappa leaves bytecode
out (the stage's `exclude` has "*.pyc" and "__pycache__", which keeps the build machine's stale
caches out), so `make package` adds it after Zappa, from the zip's own sources
(docs/performance.md).

Unchecked-hash pycs are valid whatever the zip's timestamps: Python loads them without looking at
the source's mtime (Zappa and unzip do not keep mtimes reliably). The source cannot change under a
read-only /var/task, so skipping the check is safe there.
"""

import compileall
import importlib.util
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path

MODE = py_compile.PycInvalidationMode.UNCHECKED_HASH
# Where Lambda unpacks the package; compiled into the pycs as the source's directory, so no
# build machine path ends up in a traceback.
LAMBDA_TASK_ROOT = "/var/task"


class BytecodeError(Exception):
    """The zip's modules could not be compiled for the runtime."""


def runtime_python(runtime: str) -> str:
    """A Lambda runtime as a Python version: "3.13" for "python3.13"."""
    return runtime.removeprefix("python")


def zip_add_bytecode(path: Path, *, python_version: str) -> int:
    """Rewrite the zip at `path` with an unchecked-hash .pyc (in __pycache__, for this
    interpreter) beside every .py it holds; return how many were added.

    Bytecode is specific to a Python minor version, so this interpreter must be the runtime's
    (`python_version`, e.g. "3.13"); a file that does not compile fails the build.
    """
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running != python_version:
        raise BytecodeError(
            f"bytecode for a python{python_version} runtime must be compiled by Python "
            f"{python_version}, not {running}"
        )
    with tempfile.TemporaryDirectory(prefix="package-bytecode-") as scratch:
        tree = Path(scratch)
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            archive.extractall(tree)
        sources = [entry for entry in entries if entry.filename.endswith(".py")]
        failed = [
            entry.filename
            for entry in sources
            if not compileall.compile_file(
                tree / entry.filename,
                ddir=str(Path(LAMBDA_TASK_ROOT, entry.filename).parent),
                force=True,
                quiet=1,
                optimize=0,  # Lambda runs python without -O: the plain .pyc is the one it loads
                invalidation_mode=MODE,
            )
        ]
        if failed:
            raise BytecodeError(f"these files of the package do not compile: {', '.join(failed)}")
        rewritten = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in entries:
                data = b"" if entry.is_dir() else (tree / entry.filename).read_bytes()
                archive.writestr(entry, data)
            for entry in sources:
                compiled = importlib.util.cache_from_source(entry.filename, optimization="")
                info = zipfile.ZipInfo(compiled, date_time=entry.date_time)
                info.external_attr = entry.external_attr
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, (tree / compiled).read_bytes())
        rewritten.replace(path)
    return len(sources)
