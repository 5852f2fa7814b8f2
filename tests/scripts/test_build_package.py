"""scripts/build_package.py: the size budget, the package's must-have entries, and which project
files count as the build's inputs. (Building itself is exercised by tests/deploy.)"""

import os
import zipfile
from pathlib import Path

import pytest

from scripts import build_package

REQUIRED = build_package.REQUIRED_ENTRIES


def write_zip(path: Path, *, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_a_small_complete_package_passes_and_reports_its_size(tmp_path: Path) -> None:
    package = write_zip(tmp_path / "ok.zip", entries=dict.fromkeys(REQUIRED, b"x = 1\n"))
    assert build_package.check_package(path=package) == package.stat().st_size


def test_a_package_over_8_mib_fails_with_its_size(tmp_path: Path) -> None:
    noise = os.urandom(8 * 1024 * 1024)  # random bytes do not compress
    entries = {**dict.fromkeys(REQUIRED, b""), "blob.bin": noise}
    package = write_zip(tmp_path / "big.zip", entries=entries)
    with pytest.raises(build_package.BuildError, match=r"big\.zip is 8\.\d\d MiB zipped"):
        build_package.check_package(path=package)


def test_a_package_without_the_handler_fails_naming_it(tmp_path: Path) -> None:
    entries = {name: b"" for name in REQUIRED if name != "handler.py"}
    package = write_zip(tmp_path / "nohandler.zip", entries=entries)
    with pytest.raises(build_package.BuildError, match=r"lacks handler\.py"):
        build_package.check_package(path=package)


def test_an_unknown_stage_is_refused_naming_the_stages() -> None:
    with pytest.raises(build_package.BuildError, match=r"no stage 'staging'.*\['dev', 'prod'\]"):
        build_package.build(stage="staging")


def test_inputs_are_the_project_files_zappa_copies() -> None:
    files = {
        path.relative_to(build_package.ROOT).as_posix()
        for path in build_package.project_files(stage="prod")
    }
    assert {"manage.py", "resume_site/settings.py", "counter/services.py"} <= files
    assert "resume_site/data/resume.json" in files
    tops = {name.split("/")[0] for name in files}
    assert not tops & {".venv", "node_modules", "build", "tests", ".git", "staticfiles"}
    assert not [name for name in files if "__pycache__" in name]
