"""deploy/build_venv.py: only a virtualenv without development packages is packaged, and the
names a package may hold come from the runtime requirements' installed distributions."""

import os
from pathlib import Path

import click
import pytest

from deploy import build_venv

ROOT = Path(__file__).resolve().parent.parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"
FILES = {"dev_requirements": DEV_REQUIREMENTS, "requirements": REQUIREMENTS}


class Cli:
    """What build_venv reads of Zappa's CLI object."""

    def __init__(self, *, vargs: dict) -> None:
        self.command = "update"
        self.vargs = vargs


def fake_venv(root: Path, *distributions: str) -> Path:
    """A virtualenv directory whose site-packages holds the given distributions' metadata."""
    for distribution in distributions:
        (build_venv.site_packages(root) / f"{distribution}.dist-info").mkdir(parents=True)
    return root


def install(venv: Path, name: str, *, tops: list[str], requires: list[str] = ()) -> None:
    """A distribution in a fake venv: its files, and metadata naming its dependencies and
    files (RECORD; importlib.metadata lists only the recorded files that exist)."""
    site = build_venv.site_packages(venv)
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    metadata = [f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0"]
    metadata += [f"Requires-Dist: {spec}" for spec in requires]
    (info / "METADATA").write_text("\n".join(metadata) + "\n")
    files = [top if top.endswith(".py") else f"{top}/__init__.py" for top in tops]
    for file in files:
        (site / file).parent.mkdir(parents=True, exist_ok=True)
        (site / file).write_text("")
    (venv / "bin").mkdir(exist_ok=True)
    (venv / "bin" / name).write_text("")  # a console script, outside site-packages
    record = [*files, f"{info.name}/METADATA", f"../../../bin/{name}"]
    (info / "RECORD").write_text("".join(f"{path},,\n" for path in record))


def test_requirement_names_read_plain_and_hashed_lock_lines(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# a comment\n"
        "-r base.txt\n"
        "Django==6.1.3\n"
        "moto[server]==5.2.5  # via -r requirements-dev.in\n"
        "python_dateutil==2.9.0 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash=sha256:bbbb\n"
        "    # via botocore\n"
    )
    assert build_venv.requirement_names(requirements=requirements) == {
        "django",
        "moto",
        "python-dateutil",
    }


def test_dev_only_packages_are_the_dev_pins_the_runtime_lacks() -> None:
    names = build_venv.dev_only_packages(**FILES)
    assert {"pytest", "pytest-django", "moto", "ruff"} <= names
    assert not names & {"django", "zappa", "pynamodb"}


def test_a_venv_with_dev_packages_is_unfit_to_package(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "dev", "Django-6.1.3", "pytest_django-4.14.0", "moto-5.2.5")
    assert build_venv.venv_problems(venv=venv, **FILES) == [
        "the virtualenv dev holds development packages (moto, pytest-django) that must not "
        "ship to Lambda"
    ]


def test_a_venv_with_runtime_packages_only_is_fit_to_package(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "build", "django-6.1.3", "pynamodb-6.1.0", "zappa-0.63.0")
    assert build_venv.venv_problems(venv=venv, **FILES) == []


def test_a_clean_active_venv_is_packaged_as_it_is(tmp_path: Path) -> None:
    clean = fake_venv(tmp_path / "clean", "django-6.1.3")
    chosen = build_venv.packaging_venv(active=clean, build=lambda: pytest.fail("built"), **FILES)
    assert chosen == clean


@pytest.mark.parametrize("dev_venv", [True, False])
def test_the_build_venv_is_packaged_instead_of_a_dev_venv_or_none(
    tmp_path: Path, dev_venv: bool
) -> None:
    active = fake_venv(tmp_path / "dev", "pytest-9.2.0") if dev_venv else None
    clean = fake_venv(tmp_path / "build-venv", "django-6.1.3")
    chosen = build_venv.packaging_venv(active=active, build=lambda: clean, **FILES)
    assert chosen == clean


def test_a_build_venv_with_dev_packages_stops_the_deploy(tmp_path: Path) -> None:
    dirty = fake_venv(tmp_path / "dirty", "ruff-0.17.6")
    with pytest.raises(click.ClickException) as raised:
        build_venv.packaging_venv(active=None, build=lambda: dirty, **FILES)
    assert "development packages (ruff)" in raised.value.format_message()


def test_a_clean_virtual_env_stays_the_one_zappa_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = fake_venv(tmp_path / "clean", "django-6.1.3")
    monkeypatch.setenv("VIRTUAL_ENV", str(clean))
    build_venv.use_clean_venv(Cli(vargs={}))
    assert Path(os.environ["VIRTUAL_ENV"]) == clean


def test_a_prebuilt_zip_leaves_the_virtualenv_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = fake_venv(tmp_path / "dev", "pytest-9.2.0")
    monkeypatch.setenv("VIRTUAL_ENV", str(dev))
    build_venv.use_clean_venv(Cli(vargs={"zip": "build/resume-site-prod.zip"}))
    assert Path(os.environ["VIRTUAL_ENV"]) == dev


def test_runtime_names_follow_the_requirements_and_what_they_depend_on(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    install(venv, "webapp", tops=["webapp"], requires=["helper", "extra-only; extra == 'fast'"])
    install(
        venv, "helper", tops=["helper", "helper_compat.py"], requires=["old; python_version<'3'"]
    )
    install(venv, "extra-only", tops=["extra_only"])
    install(venv, "old", tops=["old"])
    install(venv, "stray", tops=["stray"])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("webapp==1.0\n")

    names = build_venv.runtime_top_level_names(venv=venv, requirements=requirements)

    assert names == {"webapp", "helper", "helper_compat.py"}


def test_runtime_names_of_the_build_venv_include_the_requirements_dependencies() -> None:
    build_venv.ensure_build_venv()
    names = build_venv.runtime_top_level_names(venv=build_venv.VENV_DIR, requirements=REQUIREMENTS)

    assert {"django", "pynamodb", "storages", "zappa"} <= names  # requirements.txt pins these
    assert {"asgiref", "sqlparse", "werkzeug"} <= names  # ... and they depend on these
    assert not names & {"pytest", "_pytest", "moto", "ruff"}
