"""Bad input to every command: a clear message and exit 2, a JSON error object with --json."""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from sessionspec import __version__
from sessionspec.cli.app import main
from sessionspec.conformance.scenarios import SCENARIOS

PYTHON = sys.executable
# a directory name longer than any file system allows: its creation fails even for root
UNMAKEABLE = "x" * 300


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The exit status, standard output and standard error of ``sessionspec ARGV``."""
    try:
        status = main(argv)
    except SystemExit as stop:  # argparse's own exits (--help, --version)
        status = int(stop.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return status, captured.out, captured.err


@pytest.fixture
def a_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "a-file"
    path.write_text("not a directory\n")
    return path


@pytest.fixture
def trace(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "one.jsonl"
    path.write_text('{"t": 0, "op": "advance"}\n')
    return path


def test_diagrams_out_naming_a_file_is_refused(
    a_file: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`diagrams --out FILE` says the path is a file, not a directory, and exits 2."""
    status, _, err = run(["diagrams", "--out", str(a_file)], capsys)
    assert status == 2
    assert "is a file, not a directory" in err


def test_diagrams_out_that_cannot_be_made_is_refused(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`diagrams --out DIR` where DIR cannot be created says so and exits 2."""
    status, _, err = run(["diagrams", "--out", str(tmp_path / UNMAKEABLE)], capsys)
    assert status == 2
    assert "cannot write into" in err and "give a directory you can write to" in err


def test_conform_out_that_cannot_be_made_is_refused_before_the_run(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`conform --out DIR` that cannot be created exits 2 before starting the implementation."""
    status, out, err = run(["conform", "--out", str(tmp_path / UNMAKEABLE), "--", "false"], capsys)
    assert status == 2
    assert "--out: cannot make the directory" in err
    assert "broke the protocol" not in out  # `false` never ran


def test_conform_out_under_a_file_is_refused(
    a_file: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`conform --out FILE/sub` names the file in its way and exits 2."""
    status, _, err = run(["conform", "--out", str(a_file / "sub"), "--", "false"], capsys)
    assert status == 2
    assert f"{a_file} is a file, not a directory" in err


# answers every request but reports no change at all: never conforms, needs nothing but Python
SILENT = """
import json, sys
for line in sys.stdin:
    op = json.loads(line)["op"]
    print(json.dumps({"ok": True} if op in ("init", "advance", "shutdown") else {"events": []}), flush=True)
"""


def test_conform_failing_trace_that_cannot_be_saved_gives_exit_2(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the failing trace cannot be written into --out, conform says so and exits 2."""
    implementation = tmp_path / "silent.py"
    implementation.write_text(SILENT)
    scenario = "one-job-at-a-time-on-a-backend"
    (tmp_path / "out" / f"scenario-{scenario}.jsonl").mkdir(parents=True)  # a directory in the way
    argv = [
        "conform",
        "--scenario",
        scenario,
        "--out",
        str(tmp_path / "out"),
        "--",
        PYTHON,
        str(implementation),
    ]
    status, _, err = run(argv, capsys)
    assert status == 2
    assert "cannot save the failing trace" in err


def test_check_counterexample_that_cannot_be_written_gives_exit_2(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the counterexample files cannot be written, check shows the run, says so and exits 2."""
    from sessionspec.explorer.presets import PRESETS
    from sessionspec.mutants import MUTANTS

    (tmp_path / "counterexample-tiny.jsonl").mkdir()  # a directory in the way of the trace file
    tiny = PRESETS["tiny"]
    monkeypatch.setitem(
        PRESETS, "tiny", tiny._replace(config=MUTANTS["fair-share-during-ittl"].config(tiny.config))
    )
    status, out, err = run(["check", "--preset", "tiny", "--out", str(tmp_path)], capsys)
    assert status == 2
    assert "Shortest counterexample" in out and "Trace      not written" in out
    assert f"cannot write the counterexample into {tmp_path}" in err


def test_check_out_naming_a_file_is_refused(a_file: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check --out FILE` is refused before the search starts."""
    status, out, err = run(["check", "--preset", "tiny", "--out", str(a_file)], capsys)
    assert status == 2
    assert "is a file, not a directory" in err and "States" not in out


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--preset", "tiny"],
        ["explore", "--examples", "1"],
        ["check-trace", "TRACE"],
        ["conform", "--examples", "0"],
    ],
)
def test_timeline_in_another_format_is_refused_once(
    argv: list[str], trace: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--timeline x.gif` is refused before any work, saying once what cannot be drawn and what can."""
    argv = [str(trace) if a == "TRACE" else a for a in argv] + ["--timeline", "x.gif"]
    if argv[0] == "conform":
        argv += ["--", "false"]
    status, out, err = run(argv, capsys)
    assert status == 2
    assert err.count("cannot draw x.gif") == 1
    assert "the formats are .svg and .png" in err
    assert out == ""


def test_timeline_output_in_another_format_is_refused_once(capsys: pytest.CaptureFixture[str]) -> None:
    """`timeline -o x.gif` names the file once and the formats that work."""
    status, _, err = run(["timeline", "--example", "-o", "x.gif"], capsys)
    assert status == 2
    assert err.count("cannot draw x.gif") == 1 and ".svg and .png" in err


def test_timeline_in_a_missing_directory_is_refused(
    tmp_path: pathlib.Path, trace: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A picture whose directory does not exist is refused up front, naming the directory."""
    picture = tmp_path / "no-such-dir" / "t.svg"
    status, _, err = run(["check-trace", str(trace), "--timeline", str(picture)], capsys)
    assert status == 2
    assert f"the directory {picture.parent} does not exist" in err


def test_timeline_that_cannot_be_written_gives_exit_2_and_a_json_error(
    tmp_path: pathlib.Path, trace: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A picture that cannot be written: exit 2, the verdict and the error in the JSON report."""
    picture = tmp_path / f"{UNMAKEABLE}.svg"
    status, out, err = run(["check-trace", "--json", str(trace), "--timeline", str(picture)], capsys)
    assert status == 2
    report = json.loads(out)
    assert report["verdict"] == "conforms"
    assert report["timeline"]["drawn"] is False
    assert report["error"].startswith(f"cannot draw {picture}")
    assert "cannot draw" in err


def test_timeline_save_trace_into_a_directory_is_refused(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`timeline --save-trace DIR` says it needs a file name."""
    argv = ["timeline", "--example", "-o", str(tmp_path / "t.svg"), "--save-trace", str(tmp_path)]
    status, _, err = run(argv, capsys)
    assert status == 2
    assert "is a directory: give a file name" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["check-trace", "--json", "/nonexistent/trace.jsonl"],
        ["check-trace", "--json"],
        ["check", "--json", "--config", "/nonexistent/preset.json"],
        ["check", "--json", "--config", "BAD"],
        ["check", "--json", "--max-states", "0"],
        ["check", "--json", "--out", f"/{UNMAKEABLE}/sub"],
        ["explore", "--json", "--examples", "0"],
        ["bench", "--json", "--workers", "0"],
        ["conform", "--json"],
        ["conform", "--json", "--steps", "0", "--", "false"],
        ["conform", "--json", "--scenario", "no-such-scenario", "--", "false"],
        ["conform", "--json", "--", "/nonexistent/implementation"],
        ["scenarios", "--json", "no-such-scenario"],
        ["timeline", "--json", "-o", "x.svg"],
        ["timeline", "--json", "/nonexistent/trace.jsonl", "-o", "x.svg"],
        ["diagrams", "--json", "--out", f"/{UNMAKEABLE}"],
        ["serve", "--json", "--bogus"],
    ],
)
def test_every_error_with_json_prints_a_json_error_object(
    argv: list[str], tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --json, an error gives exit 2 and a JSON object naming it on standard output."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"bounds": {"sessions": -1}}')
    status, out, err = run([str(bad) if a == "BAD" else a for a in argv], capsys)
    assert status == 2
    report = json.loads(out)
    assert report["status"] == 2 and report["error"]
    assert report["error"] in err  # the same words for people, on standard error


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"\xff\xfe{}", "UTF-8 text (byte 1 is not UTF-8)"),
        (b"[" * 100_000, "not nested so deeply"),
        (b'{"config": {"interactive_ttl": ' + b"9" * 5000 + b"}}", "numbers have at most 4,300 digits"),
    ],
)
def test_check_config_files_json_cannot_read_are_refused(
    content: bytes, complaint: str, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --config file that is not UTF-8, nests too deeply or holds an enormous number: exit 2."""
    path = tmp_path / "preset.json"
    path.write_bytes(content)
    status, _, err = run(["check", "--config", str(path)], capsys)
    assert status == 2
    assert complaint in err


def test_conform_steps_zero_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """`conform --steps 0` is out of range: exit 2, saying what is accepted."""
    status, _, err = run(["conform", "--steps", "0", "--", "false"], capsys)
    assert status == 2
    assert "give 1 or more" in err


def test_conform_claims_nothing_for_scenarios_that_never_ran(capsys: pytest.CaptureFixture[str]) -> None:
    """`conform -- false` says the protocol fault stopped the scenarios, never that they conform."""
    status, out, _ = run(["conform", "--", "false"], capsys)
    assert status == 3
    assert "all conform" not in out
    assert f"Scenarios  0 of {len(SCENARIOS)} run: stopped by the protocol fault" in out


def test_check_trace_usage_errors_match_the_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """`check-trace` with no file prints the usage, the problem and the shared hint, exit 2."""
    status, _, err = run(["check-trace"], capsys)
    assert status == 2
    assert err.startswith("usage: sessionspec check-trace")
    assert "(run 'sessionspec check-trace --help' for the options)" in err


def test_version_names_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionspec --version` prints the version and exits 0."""
    status, out, _ = run(["--version"], capsys)
    assert status == 0
    assert out.strip() == f"sessionspec {__version__}"


@pytest.mark.parametrize(
    ("arguments", "status"), [(["--help"], 0), (["abc"], 2), (["0"], 2), (["5", "x"], 2)]
)
def test_longtrace_takes_help_and_refuses_bad_counts(arguments: list[str], status: int) -> None:
    """`python -m sessionspec.bench.longtrace` has --help and refuses what is not a count, exit 2."""
    done = subprocess.run(
        [PYTHON, "-m", "sessionspec.bench.longtrace", *arguments], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == status
    assert "Traceback" not in done.stderr
    assert ("usage:" in done.stdout) if status == 0 else ("usage:" in done.stderr)


@pytest.mark.parametrize(
    ("option", "value", "complaint"),
    [
        ("--sessionspec-examples", "-1", "give 0 or more"),
        ("--sessionspec-examples", "many", "is not a whole number"),
        ("--sessionspec-timeout", "0", "not a positive number of seconds"),
    ],
)
def test_pytest_plugin_refuses_out_of_range_options(
    option: str, value: str, complaint: str, tmp_path: pathlib.Path
) -> None:
    """The pytest plugin's options are checked: a usage error naming the option, no test run."""
    (tmp_path / "test_nothing.py").write_text(textwrap.dedent("def test_nothing():\n    assert True\n"))
    done = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{option}={value}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 4  # pytest's exit status for usage errors
    assert option in done.stderr and complaint in done.stderr


@pytest.mark.parametrize(
    "arguments", [["check-trace", "-"], ["timeline", "-", "-o", "x.svg"], ["serve"]], ids=lambda a: a[0]
)
def test_commands_reading_a_closed_standard_input_say_so(
    arguments: list[str], tmp_path: pathlib.Path
) -> None:
    """With standard input closed, commands that read it exit 2 saying so, no traceback."""
    done = subprocess.run(
        [PYTHON, "-m", "sessionspec", *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(0),  # the child starts with no standard input at all
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "standard input" in done.stderr


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('{"op": "advance", "t": ' + "9" * 5000 + "}", "a number has too many digits (5,000)"),
        (
            '{"op": "init", "config": {"backends": [{"name": "a\tb"}]}}',
            "Invalid control character at column 51",
        ),
    ],
)
def test_serve_says_plainly_what_is_wrong_with_a_line(line: str, said: str) -> None:
    """serve's error reply names the JSON problem once, without Python's advice to programmers."""
    from sessionspec.conformance.serve import serve

    replies = io.StringIO()
    serve(io.StringIO(line + "\n"), replies)
    error = json.loads(replies.getvalue().splitlines()[0])["error"]
    assert said in error
    assert "set_int_max_str_digits" not in error and " at at " not in error
