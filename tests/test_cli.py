"""The prefdyn command line: exit codes, JSON, user modules, bad usage."""

import json
import pathlib
import subprocess
import sys

import pytest

from verify.cli import main
from verify.engine.registry import REGISTRY

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_json_reports_ipo_claims(capsys):
    code, out, err = run(capsys, "check", "--claim", "IPO-1", "--claim", "IPO-2", "--json", "--quiet")
    assert code == 0
    data = json.loads(out)["results"]
    assert [d["id"] for d in data] == ["IPO-1", "IPO-2"]
    assert all({"id", "verdict", "evidence", "seconds"} <= set(d) for d in data)
    kinds = {c["verdict"] for c in data[0]["checks"]}
    assert kinds == {"proved", "verified"}
    assert data[1]["verdict"] == "proved" and "non-unique" in data[1]["evidence"]


def test_user_module_false_claim_is_refuted_with_counterexample(capsys):
    try:
        code, out, err = run(capsys, "check", "--module", str(EXAMPLES / "user_claims.py"), "--claim", "USER-ipo-order", "--claim", "USER-false-top", "--json", "--quiet")
        assert code == 1
        data = {d["id"]: d for d in json.loads(out)["results"]}
        assert data["USER-ipo-order"]["verdict"] == "verified"
        bad = data["USER-false-top"]
        assert bad["verdict"] == "refuted"
        ce = bad["checks"][0]["counterexample"]
        assert ce["seed"] is not None and ce["instance"]
    finally:
        REGISTRY.remove("USER-ipo-order")
        REGISTRY.remove("USER-false-top")


def test_table_output_and_controls(capsys):
    code, out, err = run(capsys, "check", "--claim", "IPO-2", "--controls", "--quiet")
    assert code == 0
    assert "IPO-2" in out and "PROVED" in out and "caught" in out and "NOT CAUGHT" not in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["check", "--claim", "NOPE-1"], "unknown claim id 'NOPE-1'"),
        (["check", "--module", "missing_file.py"], "does not exist"),
        (["ipo", "--matrix", "missing.json"], "does not exist"),
        (["ipo", "--matrix", str(EXAMPLES / "sst4.csv"), "--mu", "0.5,0.5"], "mu has 2 entries, expected K = 4"),
        (["ipo", "--matrix", str(EXAMPLES / "sst4.csv"), "--beta", "abc"], "beta = 'abc' is not a number"),
        (["ipo", "--matrix", str(EXAMPLES / "sst4.csv"), "--dps", "2"], "--dps 2 is outside"),
        (["latex", "--claim", "NOPE-2"], "unknown claim id"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_argparse_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["check", "--budget", "huge"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2


def test_bad_module_reports_import_error(tmp_path, capsys):
    m = tmp_path / "broken.py"
    m.write_text("raise RuntimeError('planted')\n")
    code, out, err = run(capsys, "check", "--module", str(m))
    assert code == 2 and "RuntimeError: planted" in err


def test_ipo_command(capsys):
    code, out, err = run(capsys, "ipo", "--matrix", str(EXAMPLES / "cyclic3.json"), "--mu", "1/2,1/4,1/4", "--beta", "2", "--dps", "30", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["unique"] and d["agrees_to_dps"] and len(d["pi"]) == 3
    code, out, err = run(capsys, "ipo", "--matrix", str(EXAMPLES / "cyclic3.json"), "--mu", "1,0,0")
    assert code == 0 and "not unique" in out


def test_console_script_help_runs():
    res = subprocess.run([sys.executable, "-m", "verify.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0
    for cmd in ("check", "ipo", "latex"):
        assert cmd in res.stdout


def test_a_user_module_loaded_again_after_its_claims_were_removed_registers_them_again():
    """Loading is idempotent, and a module whose claims were removed from the registry is run again (any test order)."""
    from verify.engine.runner import load_module

    ids = load_module(EXAMPLES / "user_claims.py")
    try:
        assert ids and all(i in REGISTRY for i in ids) and load_module(EXAMPLES / "user_claims.py") == ids
        REGISTRY.remove(ids[0])
        assert load_module(EXAMPLES / "user_claims.py") == ids and all(i in REGISTRY for i in ids)
    finally:
        for i in ids:
            if i in REGISTRY:
                REGISTRY.remove(i)
