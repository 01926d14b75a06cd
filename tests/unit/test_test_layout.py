"""Tests share fixtures and helpers through tests/support (issue 19): no test folder imports
another folder's conftest or test modules (a test module is not a library, and importing a
conftest from elsewhere registers its fixtures twice)."""
import ast
import pathlib

TESTS = pathlib.Path(__file__).resolve().parent.parent


def _imports_of_other_folders(path: pathlib.Path) -> list[str]:
    folder = path.relative_to(TESTS).parts[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
            [a.name for a in node.names] if isinstance(node, ast.Import) else []
        for name in names:
            parts = name.split(".")
            if len(parts) >= 3 and parts[0] == "tests" and parts[1] != folder and \
                    (parts[2] == "conftest" or parts[2].startswith("test_")):
                found.append(f"{path.relative_to(TESTS)}:{node.lineno} imports {name}")
    return found


def test_no_test_folder_imports_another_folders_conftest_or_tests():
    offenders = [hit for path in sorted(TESTS.glob("*/**/*.py")) for hit in _imports_of_other_folders(path)]
    assert offenders == [], "share it through tests/support instead:\n" + "\n".join(offenders)


def test_the_check_sees_an_offender(tmp_path):
    folder = tmp_path / "tests" / "payment"
    folder.mkdir(parents=True)
    module = folder / "test_x.py"
    module.write_text("def f():\n    from tests.ordering.test_amend import placed\n")
    global TESTS
    saved, TESTS = TESTS, tmp_path / "tests"
    try:
        assert _imports_of_other_folders(module) == ["payment/test_x.py:2 imports tests.ordering.test_amend"]
    finally:
        TESTS = saved
