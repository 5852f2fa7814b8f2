"""deploy/tracked_files.py: a copy of the files git tracks holds them as the working tree has
them, and nothing else of the checkout."""

import shutil
import subprocess
from pathlib import Path

import pytest

from deploy import tracked_files


def git(*args: str, cwd: Path) -> None:
    subprocess.run([shutil.which("git"), *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git checkout with two tracked files, an ignored one and a stray untracked one."""
    root = tmp_path / "checkout"
    (root / "app").mkdir(parents=True)
    (root / "app" / "views.py").write_text("VIEWS = 1\n")
    (root / "manage.py").write_text("print('manage')\n")
    (root / ".gitignore").write_text("build/\n")
    git("init", "-q", cwd=root)
    git("add", "app/views.py", "manage.py", ".gitignore", cwd=root)
    (root / "build").mkdir()
    (root / "build" / "out.zip").write_bytes(b"zip")
    (root / "dynamodb-local-metadata.json").write_text("{}")
    return root


def test_only_tracked_files_are_copied(checkout: Path, tmp_path: Path) -> None:
    copied = tracked_files.export(root=checkout, destination=tmp_path / "copy")

    assert copied == [".gitignore", "app/views.py", "manage.py"]
    files = sorted(
        path.relative_to(tmp_path / "copy").as_posix()
        for path in (tmp_path / "copy").rglob("*")
        if path.is_file()
    )
    assert files == copied


def test_a_tracked_file_is_copied_as_the_working_tree_has_it(
    checkout: Path, tmp_path: Path
) -> None:
    (checkout / "app" / "views.py").write_text("VIEWS = 2\n")

    tracked_files.export(root=checkout, destination=tmp_path / "copy")

    assert (tmp_path / "copy" / "app" / "views.py").read_text() == "VIEWS = 2\n"


def test_a_tracked_file_deleted_from_the_working_tree_is_left_out(checkout: Path) -> None:
    (checkout / "manage.py").unlink()

    assert tracked_files.tracked_files(root=checkout) == [".gitignore", "app/views.py"]


def test_untracked_files_that_git_does_not_ignore_are_listed(checkout: Path) -> None:
    (checkout / "app" / "new_module.py").write_text("")

    assert tracked_files.untracked_files(root=checkout) == [
        "app/new_module.py",
        "dynamodb-local-metadata.json",
    ]


def test_a_directory_outside_git_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "not-a-checkout"
    outside.mkdir()

    with pytest.raises(
        tracked_files.TrackedFilesError, match="not-a-checkout is not a git checkout"
    ):
        tracked_files.tracked_files(root=outside)
