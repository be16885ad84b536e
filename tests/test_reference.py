"""The repository carries its own specification: docs/claims.md, generated from the claim registry."""

import dataclasses
import pathlib
import subprocess

from verify.cli import main
from verify.engine.registry import REGISTRY
from verify.engine.runner import load_builtin_claims
from verify.publish.reference import REFERENCE_PATH, REGENERATE, claims_reference

ROOT = pathlib.Path(__file__).resolve().parents[1]


def builtin():
    load_builtin_claims()
    return [c for c in REGISTRY if c.tag != "user"]


def test_docs_claims_md_is_the_generated_reference():
    committed = (ROOT / REFERENCE_PATH).read_text()
    assert committed == claims_reference(), f"{REFERENCE_PATH} is stale: regenerate with `{REGENERATE}`"


def test_reference_has_every_claim_with_its_scope_hypotheses_and_checkers():
    text = claims_reference()
    for c in builtin():
        entry = text.split(f"### {c.id} [{c.tag}]", 1)
        assert len(entry) == 2, c.id
        body = entry[1].split("\n### ", 1)[0]
        assert "**Scope:**" in body and c.checkers[0].name in body
        for h in c.hypotheses:
            assert f"`{h}`" in body, (c.id, h)
    assert "## §0. Objects and conventions" in text and "beta = 1/tau" in text


def test_a_changed_statement_makes_the_reference_stale():
    claims = builtin()
    changed = [dataclasses.replace(claims[0], statement=claims[0].statement + " (changed)")] + claims[1:]
    assert claims_reference(changed) != claims_reference(claims)


def test_claims_command_writes_the_reference(tmp_path, capsys):
    out = tmp_path / "claims.md"
    assert main(["claims", "--out", str(out)]) == 0
    assert out.read_text() == claims_reference()
    assert main(["claims", "--claim", "DYN-1"]) == 0
    shown = capsys.readouterr().out
    assert "### DYN-1 [paper]" in shown and "### DYN-2" not in shown


def test_claims_command_bad_input_exits_2(tmp_path, capsys):
    assert main(["claims", "--claim", "NOPE"]) == 2
    assert main(["claims", "--out", str(tmp_path / "missing" / "x.md")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("prefdyn claims: error:") for line in err)


def test_no_file_points_to_a_specification_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = "THEORY" + ".md"
    hits = [p for p in tracked if p.endswith((".py", ".md", ".toml", ".txt")) and outside in (ROOT / p).read_text(errors="replace")]
    assert hits == []
