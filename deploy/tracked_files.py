"""The files git tracks: what the Lambda package is built from, so nothing stray can ship.

Zappa packages its working directory. A checkout also holds what tools leave in it (a
`dynamodb-local-metadata.json` from DynamoDB Local once reached the prod zip that way), so the
package is built from a copy of the tracked files instead (see deploy/zappa_callbacks.py).
"Tracked" means listed by `git ls-files`, with the content the working tree has now: an edited
tracked file ships as edited, a new file ships once it is `git add`ed.
"""

import shutil
import subprocess
from pathlib import Path


class TrackedFilesError(RuntimeError):
    """The project is not a git checkout, or git is missing."""


def _git(*args: str, root: Path) -> list[str]:
    """The NUL-separated paths a `git ls-files` run prints, relative to root."""
    git = shutil.which("git")
    if git is None:
        raise TrackedFilesError("git is needed: the package is built from the files git tracks")
    result = subprocess.run(  # noqa: S603 (git found on PATH, fixed arguments, no shell)
        [git, "-C", str(root), "ls-files", "-z", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise TrackedFilesError(
            f"{root.name} is not a git checkout ({result.stderr.strip()}): the package is built "
            "from the files git tracks, so deploy from the project's checkout"
        )
    return [path for path in result.stdout.split("\0") if path]


def tracked_files(*, root: Path) -> list[str]:
    """The tracked files under root that exist in the working tree, as sorted relative paths
    (a tracked file deleted but not yet committed is left out, as is a submodule)."""
    paths = _git("--cached", root=root)
    return sorted(
        path for path in set(paths) if (root / path).is_file() or (root / path).is_symlink()
    )


def untracked_files(*, root: Path) -> list[str]:
    """Files under root that git neither tracks nor ignores: what a build leaves out although
    someone may have meant it to ship (a new module not yet `git add`ed)."""
    return sorted(_git("--others", "--exclude-standard", root=root))


def export(*, root: Path, destination: Path) -> list[str]:
    """Copy the tracked files of root into destination (same relative paths, content and mode;
    symlinks stay symlinks); returns the copied paths."""
    copied = tracked_files(root=root)
    for path in copied:
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / path, target, follow_symlinks=False)
    return copied
