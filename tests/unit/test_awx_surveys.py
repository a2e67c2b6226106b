"""The AWX surveys in docs/awx/ ask only for what their playbook reads, in AWX's survey format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SURVEYS = sorted((ROOT / "docs" / "awx").glob("*.survey.json"))
AWX_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


@pytest.mark.parametrize("survey", SURVEYS, ids=lambda path: path.name)
def test_every_question_is_a_variable_its_playbook_reads(survey):
    # The parsed playbook, not its text: comments name variables too.
    playbook = json.dumps(
        yaml.safe_load((ROOT / "playbooks" / survey.name.replace(".survey.json", ".yml")).read_text())
    )
    spec = json.loads(survey.read_text())
    assert spec["name"] and spec["description"] and spec["spec"]
    for question in spec["spec"]:
        assert question["type"] in AWX_TYPES, question
        assert {"question_name", "variable", "required"} <= set(question), question
        assert re.search(rf"\b{question['variable']}\b", playbook), f"{survey.name}: {question['variable']} unread"
        if question["type"] == "multiplechoice":
            assert "" in question["choices"], "a blank answer must stay possible: it keeps the current value"
    assert [q["variable"] for q in spec["spec"] if q["required"]] == ["app"], "only the app is always needed"


def test_the_awx_guide_names_every_survey():
    guide = (ROOT / "docs" / "awx.md").read_text()
    assert [s.name for s in SURVEYS] == sorted(re.findall(r"awx/([a-z_]+\.survey\.json)\)", guide))
