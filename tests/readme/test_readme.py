"""README to the letter (issue 17): every ```sh block of README.md runs, in order, as written.

How: the blocks are joined, in the README's order, into one script run by one `bash` (so a
variable or function set in one block is there in the next, as in a reader's terminal) with
`set -euo pipefail`, in the checkout's root, against a local runtime this test starts
(`local_runtime_factory`, free ports). The text is changed in two places only:
- the base URL `http://127.0.0.1:8000` (where `make run` listens) becomes the runtime's;
- the demo listener's port `9999` (`127.0.0.1:9999`, `infra.local.listener 9999`) becomes a
  free one, opened in that runtime's outbound guard with OMNISHOP_DEMO_LISTENER_PORT.
The shell runs with the project's virtualenv active (its bin/ first on PATH, VIRTUAL_ENV set, as
`. .venv/bin/activate` does), so the README's `python3` one-liners run the venv's interpreter (the
same Python the README asks for; they use only the standard library). Without it `python3` may be a
version manager's shim: pyenv's cost about 0.1 s of CPU per call, some 12 CPU-seconds of the walk's
14 outside the runtime (issue 16).
The runtime has a 3 s basket idle time, as the README asks for (`OMNISHOP_BASKET_IDLE_SECONDS=3
make run`), so the abandoned-basket walk gets its SMS, and simulated stacks that report each
milestone after 0.2 s instead of 1 s (OMNISHOP_SIMULATED_STACK_DELAY_SECONDS): the README's
orders reach the same states in the same order, each some 2.4 s sooner (the walk waits for them
with `poll`).

It fails on any non-zero exit, so on any HTTP error: every `curl` in a sh block carries `-f`
(checked here first), and an answer meant to be an error goes through the README's `expect
STATUS ...`, which fails on any other status. Blocks not meant to run are fenced ```text.
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile

import pytest

from infra.local.process import free_port
from infra.resources import ROOT

pytestmark = pytest.mark.waits   # mostly waits (on its runtime's idle timer and workflows): tests/support/scheduling.py

README = os.path.join(ROOT, "README.md")
MAKE_RUN_URL = "http://127.0.0.1:8000"
LISTENER_PORT = "9999"
FENCE = re.compile(r"^```(\w*)\s*$")
PLACEHOLDER = re.compile(r"<([A-Za-z][\w .-]*)>")   # <token>, <basketId>, <ACCOUNT>
HTML_TAGS = {"li", "ul", "a", "p", "div", "html", "title", "script", "pre", "span"}   # grep patterns
TIMEOUT = 1200   # seconds for the whole walk; each wait inside it gives up after 3 minutes


def sh_blocks(text: str) -> list[tuple[int, list[str]]]:
    """(line number of the block's first line, its lines) for every ```sh block, in order."""
    blocks: list[tuple[int, list[str]]] = []
    lang, start, lines = None, 0, []
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence and lang is None:
            lang, start, lines = fence.group(1), number + 1, []
        elif line.strip() == "```" and lang is not None:
            if lang == "sh":
                blocks.append((start, lines))
            lang = None
        elif lang is not None:
            lines.append(line)
    assert lang is None, "README.md ends inside a fenced block"
    return blocks


def _commands(line: str) -> list[str]:
    """The words of a line outside its comment, as the shell would split them (roughly)."""
    try:
        return shlex.split(line, comments=True)
    except ValueError:   # a quote that closes on a later line
        return line.split("#", 1)[0].split()


def test_sh_blocks_fail_on_http_errors_and_name_no_placeholder():
    problems = []
    for start, lines in sh_blocks(open(README, encoding="utf-8").read()):
        for offset, line in enumerate(lines):
            where = f"README.md:{start + offset}"
            code = "" if line.lstrip().startswith("#") else line.split(" #", 1)[0]
            if any(name not in HTML_TAGS for name in PLACEHOLDER.findall(code)):
                problems.append(f"{where}: a <placeholder> in a sh block: {line.strip()}")
            words = _commands(line)
            for i, word in enumerate(words):
                if word.endswith("curl") and not line.lstrip().startswith("expect()"):
                    flags = [w for w in words[i + 1:] if w.startswith("-")]
                    if not any(w == "--fail" or re.fullmatch(r"-[a-zA-Z]*f[a-zA-Z]*", w) for w in flags):
                        problems.append(f"{where}: curl without -f (an HTTP error would pass): {line.strip()}")
    assert not problems, "\n".join(problems)


def _activated(environ: os._Environ | dict[str, str]) -> dict[str, str]:
    """`environ` as in a terminal after `. .venv/bin/activate` (the venv of the Python running the tests)."""
    venv = sys.prefix
    path = [os.path.join(venv, "bin"), *(p for p in environ.get("PATH", "").split(os.pathsep) if p)]
    return {**environ, "VIRTUAL_ENV": venv, "PATH": os.pathsep.join(path), "PYTHONUNBUFFERED": "1"}


def test_the_walk_runs_the_venvs_python3():
    env = _activated({"PATH": "/usr/bin"})
    found = subprocess.run(["bash", "-c", "command -v python3"], env=env, capture_output=True, text=True, check=True)
    assert os.path.realpath(found.stdout.strip()) == os.path.realpath(os.path.join(sys.prefix, "bin", "python3"))


def test_every_sh_block_runs_in_order(local_runtime_factory):
    listener_port = str(free_port())
    runtime = local_runtime_factory(OMNISHOP_BASKET_IDLE_SECONDS="3", OMNISHOP_DEMO_LISTENER_PORT=listener_port,
                                    OMNISHOP_SIMULATED_STACK_DELAY_SECONDS="0.2")
    script, origin = ["set -euo pipefail", 'trap \'echo "README_FAILED_AT $LINENO" >&2\' ERR'], {}
    for start, lines in sh_blocks(open(README, encoding="utf-8").read()):
        script.append(f"echo; echo \"=== README.md line {start} (at +$SECONDS s)\"")
        for offset, line in enumerate(lines):
            line = line.replace(MAKE_RUN_URL, runtime.url)
            line = line.replace(f"127.0.0.1:{LISTENER_PORT}", f"127.0.0.1:{listener_port}")
            line = line.replace(f"infra.local.listener {LISTENER_PORT}", f"infra.local.listener {listener_port}")
            script.append(line)
            origin[len(script)] = start + offset
    with tempfile.TemporaryFile("w+") as log:   # a file: a background process a block leaves does not hold a pipe open
        shell = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                 text=True, start_new_session=True, env=_activated(os.environ))
        try:
            shell.wait(timeout=TIMEOUT)
        finally:   # what a block left running (the listener, when a step after it failed)
            try:
                os.killpg(shell.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            shell.wait()
        log.seek(0)
        output = log.read()
    failed = re.findall(r"README_FAILED_AT (\d+)", output)
    where = f"README.md line {origin.get(int(failed[0]), '?')}" if failed else "see the output"
    print("\n".join(line for line in output.splitlines() if line.startswith("=== README.md line")))
    assert shell.returncode == 0, f"exit {shell.returncode} at {where}:\n{output[-6000:]}"
