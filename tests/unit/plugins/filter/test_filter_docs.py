"""Every filter of plugins/filter/ has its doc file, in step with the code.

ansible-doc reads plugins/filter/NAME.yml for filter NAME; its options must be the Python
function's parameters (the input, then the positional arguments by the same names, so they can
also be given as keywords), and its examples must be YAML. antsibull-docs lint-collection-docs
checks the rest (schema, markup, references).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml
from ansible_collections.sentinel.paas.plugins.filter import cluster, given, naming, rollout, validation

FILTER_DIR = Path(cluster.__file__).parent
FILTERS = {
    k: v for module in (validation, cluster, naming, given, rollout) for k, v in module.FilterModule().filters().items()
}


def doc(name: str) -> dict:
    return yaml.safe_load((FILTER_DIR / f"{name}.yml").read_text())


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_doc_matches_the_function(name):
    documentation = doc(name)["DOCUMENTATION"]
    assert documentation["name"] == name
    parameters = list(inspect.signature(FILTERS[name]).parameters.values())
    positional = [p.strip() for p in documentation["positional"].split(",")]
    assert positional == ["_input", *(p.name for p in parameters[1:])]
    assert list(documentation["options"]) == positional
    for option, parameter in zip(documentation["options"].values(), parameters, strict=True):
        if parameter.default is inspect.Parameter.empty:
            assert option.get("required") is True, parameter.name
        else:
            assert not option.get("required") and option.get("default") == parameter.default, parameter.name
    assert documentation["short_description"] and documentation["description"]
    assert documentation["version_added"] and documentation["author"]


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_doc_has_examples_and_return(name):
    document = doc(name)
    examples = yaml.safe_load(document["EXAMPLES"])
    assert isinstance(examples, (list, dict)) and examples
    assert f"sentinel.paas.{name}" in document["EXAMPLES"]
    assert set(document["RETURN"]) == {"_value"} and document["RETURN"]["_value"]["type"]
