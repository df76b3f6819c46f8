"""sessionspec inside a user's project: no name clashes, the pytest plugin enabled every documented way."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PYTHON = sys.executable

# A user's own scheduler, in a module with the common name `model.py`: a thin wrapper of the
# model that keeps a log of its own (so that it is the user's code that answers).
USER_MODEL = '''
"""The user's scheduler (a module named like sessionspec's model folder, on purpose)."""
from sessionspec.conformance.adapter import ModelImplementation


class MyScheduler(ModelImplementation):
    def __init__(self):
        super().__init__()
        self.requests = 0

    def _handle(self, request):
        self.requests += 1
        return super()._handle(request)
'''

USER_INVARIANTS = '''
"""The user's own rules module, named like sessionspec's invariants folder."""
RULES = {"MINE": "the user's rule"}
'''

USER_TEST = """
import invariants
import model
from sessionspec.conformance.adapter import run_conformance


def test_users_modules_are_the_users():
    assert invariants.RULES == {"MINE": "the user's rule"}
    assert model.MyScheduler.__module__ == "model"


def test_fixture(sessionspec_conformance):
    scheduler = model.MyScheduler()
    assert sessionspec_conformance(scheduler).status == 0
    assert scheduler.requests > 0


def test_adapter():
    report = run_conformance(model.MyScheduler(), examples=3, save=False)
    assert report.status == 0, report.format()
"""


def user_project(folder: pathlib.Path, conftest: str = "") -> pathlib.Path:
    """A throwaway project with its own model.py, invariants.py and a test using sessionspec."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(textwrap.dedent(USER_MODEL))
    (folder / "invariants.py").write_text(textwrap.dedent(USER_INVARIANTS))
    (folder / "test_scheduler.py").write_text(textwrap.dedent(USER_TEST))
    (folder / "pytest.ini").write_text("[pytest]\n")  # the project's own root, not sessionspec's
    if conftest:
        (folder / "conftest.py").write_text(conftest)
    return folder


def run_pytest(folder: pathlib.Path, *options: str, python: str = PYTHON) -> subprocess.CompletedProcess[str]:
    """Run pytest in the user's project, as its own root, with only what is installed."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


@pytest.mark.parametrize(
    ("how", "conftest", "options"),
    [
        ("installed entry point", "", ()),
        ("pytest_plugins in conftest.py", 'pytest_plugins = ["sessionspec.conformance.pytest_plugin"]\n', ()),
        ("-p on the command line", "", ("-p", "sessionspec.conformance.pytest_plugin")),
    ],
)
def test_user_project_with_its_own_model_module(
    tmp_path: pathlib.Path, how: str, conftest: str, options: tuple[str, ...]
) -> None:
    """A project with its own model.py and invariants.py runs the fixture and the adapter, however enabled."""
    done = run_pytest(user_project(tmp_path / "project", conftest), "--sessionspec-examples", "3", *options)
    assert done.returncode == 0, f"{how}:\n{done.stdout}\n{done.stderr}"
    assert "3 passed" in done.stdout, done.stdout


def test_plugin_can_be_disabled_by_its_name(tmp_path: pathlib.Path) -> None:
    """`-p no:sessionspec.conformance.pytest_plugin` turns the fixture off: the fixture test errors."""
    done = run_pytest(user_project(tmp_path / "project"), "-p", "no:sessionspec.conformance.pytest_plugin")
    assert done.returncode != 0
    assert "fixture 'sessionspec_conformance' not found" in done.stdout


def _fresh_venv(folder: pathlib.Path) -> pathlib.Path:
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(folder)
    return folder / "bin" / "python"


def test_built_wheel_installs_only_sessionspec(tmp_path: pathlib.Path) -> None:
    """A built wheel works in a fresh venv: `check --preset tiny` runs; `import model` fails."""
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__"),
    )
    wheels = tmp_path / "wheels"
    subprocess.run(
        [PYTHON, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("sessionspec-*.whl")
    python = _fresh_venv(tmp_path / "venv")
    # The dependencies come from this environment's own copies (no network needed); pytest too.
    here = subprocess.run(
        [PYTHON, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
    ).stdout
    pins = tmp_path / "pins.txt"
    pins.write_text(here)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(pins)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    check = subprocess.run(
        [str(python.with_name("sessionspec")), "check", "--preset", "tiny", "--out", str(elsewhere)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Verdict" in check.stdout
    for generic in ("model", "invariants"):
        imported = subprocess.run(
            [str(python), "-c", f"import {generic}"], cwd=elsewhere, capture_output=True, text=True
        )
        assert imported.returncode == 1 and "ModuleNotFoundError" in imported.stderr, generic
    project = run_pytest(
        user_project(tmp_path / "project"), "--sessionspec-examples", "3", python=str(python)
    )
    assert project.returncode == 0, project.stdout + project.stderr
