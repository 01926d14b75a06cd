"""tests/ctk/kits.js, the kits' runner: one node process runs kit after kit, and a kit whose
checks fail comes back with every failure named and the CLI's output; a runner that dies is an
error that says what it printed."""
import json

import pytest

from tests.ctk import newman


def _kit(tmp_path, name):
    """A kit of one request to a closed port, with one check, in the layout of shared/tmf/ctk."""
    kit = tmp_path / name / "ctk"
    kit.mkdir(parents=True)
    (kit / "collection.json").write_text(json.dumps({
        "info": {"name": name, "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [{"name": "the one request", "request": {"method": "GET", "url": "{{api}}thing"},
                  "event": [{"listen": "test", "script": {"exec": [
                      "pm.test('answers 200', () => pm.response.to.have.status(200));"]}}]}]}))
    (kit / "env.json").write_text(json.dumps({"name": "env", "values": [{"key": "api", "value": ""}]}))
    return tmp_path / name


def test_a_failing_kit_names_its_failures_and_the_runner_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(newman, "CTK_ROOT", tmp_path)
    results, runners = [], []
    for name in ("first", "second"):
        results.append(newman.run(name, "ctk/collection.json", "ctk/env.json", "api", "http://127.0.0.1:9/", "token",
                                  _kit(tmp_path, name)))
        runners.append(newman._runner.pid)
    assert runners[0] == runners[1] and newman._runner.poll() is None
    for result in results:
        assert result.requests == 1 and result.assertions == 1
        assert any(f.startswith("the one request:") and "ECONNREFUSED" in f for f in result.failures), result.failures
        assert "the one request" in result.output and "answers 200" in result.output


def test_a_runner_that_dies_is_an_error_with_what_it_printed(tmp_path, monkeypatch):
    dying = tmp_path / "dying.js"
    dying.write_text("process.stderr.write('cannot find module newman\\n'); process.exit(3);\n")
    monkeypatch.setattr(newman, "KITS", dying)
    monkeypatch.setattr(newman, "_runner", None)
    monkeypatch.setattr(newman, "CTK_ROOT", tmp_path)
    with pytest.raises(RuntimeError, match=r"ended \(exit code 3\):\ncannot find module newman"):
        newman.run("kit", "ctk/collection.json", "ctk/env.json", "api", "http://127.0.0.1:9/", "token",
                   _kit(tmp_path, "kit"))
