"""`python -m bench`: a section that does not exist is a clear usage error (exit 2, naming the
sections), not a KeyError traceback; --quick runs only the headline sections; --list names them."""
import pytest

from bench import __main__ as cli


@pytest.mark.parametrize("argv, said", [
    (["nope"], "no section 'nope'; the sections are imports, local-api"),
    (["basket", "--help-me"], "unrecognized arguments: --help-me"),
    (["--quick", "basket"], "--quick chooses its own sections"),
])
def test_bad_arguments_are_a_usage_error_naming_what_is_wrong(argv, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err


def test_list_names_every_section_and_marks_the_quick_ones(capsys):
    assert cli.main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(cli.SECTIONS)
    assert {line.split()[0] for line in lines if line.endswith("(--quick)")} == set(cli.QUICK)


def test_sections_run_in_the_order_asked_and_quick_runs_only_its_own(monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(cli, "SECTIONS", {name: (lambda name=name: ran.append(name), about)
                                          for name, (_, about) in cli.SECTIONS.items()})
    assert cli.main(["ordering", "basket"]) == 0 and ran == ["ordering", "basket"]
    ran.clear()
    assert cli.main(["--quick"]) == 0 and ran == list(cli.QUICK)
    ran.clear()
    assert cli.main([]) == 0 and ran == list(cli.SECTIONS)
    assert "(ordering: 0 s)" in capsys.readouterr().out
