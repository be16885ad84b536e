"""Every ``prefdyn`` command shown in the README runs as documented.

Each line of the README's ``sh`` blocks that starts with ``prefdyn`` is run, as written, through
the command line's ``main`` in a scratch folder (``examples/`` linked in), so files it writes with
``--out`` land there. The expected exit code is 0 unless the line's comment says ``exit 1``.

One substitution keeps the suite fast, and it changes no result: the ``check`` commands that check
built-in claims at the quick budget with seed 0 are served the results of the session's quick run
of exactly those claims (the ``quick_results`` fixture; a claim's result depends only on the claim,
the budget and the seed). Anything else — other budgets, user claims, controls — is computed.
"""

import os
import shlex
import sys

import pytest

from verify.cli import main
from verify.engine.registry import REGISTRY
from verify.engine.runner import check as real_check, load_builtin_claims

from tests.test_cli import ROOT


def readme_commands() -> list[tuple[list[str], int]]:
    """``(argv, expected exit code)`` for every ``prefdyn`` line of the README's ``sh`` blocks."""
    text = (ROOT / "README.md").read_text()
    out = []
    for block in text.split("```sh")[1:]:
        for line in block.split("```", 1)[0].splitlines():
            if line.startswith("prefdyn "):
                comment = line.split("#", 1)[1] if "#" in line else ""
                out.append((shlex.split(line, comments=True)[1:], 1 if "exit 1" in comment else 0))
    return out


COMMANDS = readme_commands()


def test_the_readme_shows_every_command():
    from verify.cli import build_parser

    shown = {argv[0] for argv, _ in COMMANDS}
    sub = next(a for a in build_parser()._subparsers._group_actions)
    assert set(sub.choices) - shown == set(), "a command is missing from the README's examples"


@pytest.fixture
def builtin_registry(monkeypatch):
    """The registry with the built-in claims only, as in a fresh process (other tests may have loaded user claims)."""
    load_builtin_claims()
    for name in [m for m in sys.modules if m.startswith("prefdyn_user_")]:
        monkeypatch.delitem(sys.modules, name)  # so that --module loads its file again
    saved = [c for c in REGISTRY if c.tag == "user"]
    for c in saved:
        REGISTRY.remove(c.id)
    yield
    for c in [c for c in REGISTRY if c.tag == "user"]:
        REGISTRY.remove(c.id)
    for c in saved:
        REGISTRY.add(c)


@pytest.mark.parametrize("argv,expected", COMMANDS, ids=[" ".join(a)[:70] for a, _ in COMMANDS])
def test_readme_command_runs_as_documented(argv, expected, tmp_path, monkeypatch, capsys, quick_results, builtin_registry):
    os.symlink(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)

    def served_check(ids=None, budget="quick", seed=0, **kw):
        ids = list(ids) if ids else [c.id for c in REGISTRY]
        served = quick_results if budget == "quick" and seed == 0 else {}
        todo = [i for i in ids if i not in served]
        done = {r.id: r for r in real_check(todo, budget=budget, seed=seed, **kw)} if todo else {}
        return [served[i] if i in served else done[i] for i in ids]

    monkeypatch.setattr("verify.commands.check.check", served_check)
    monkeypatch.setattr("verify.commands.report.check", served_check)
    code = main(argv + (["--quiet"] if argv[0] in ("check", "phase", "report") and "--quiet" not in argv else []))
    out, err = capsys.readouterr()
    assert code == expected, f"exit {code}, documented {expected}: {err[-2000:]}"
    assert out.strip() or "--out" in argv
    if "--out" in argv:
        written = tmp_path / argv[argv.index("--out") + 1]
        assert written.exists() and written.stat().st_size > 0
