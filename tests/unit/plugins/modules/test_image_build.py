"""image_build's reading of the engine's build stream: the steps, the failing step, the progress file."""

from __future__ import annotations

import pytest
from ansible_collections.sentinel.paas.plugins.modules.image_build import BuildFailed, Output, build

PARAMS = {"path": "context.tar.gz", "dockerfile": "Dockerfile", "build_args": {"N": 1}}


class FakeSwarm:
    """An engine whose build yields ``stream`` (its decoded JSON lines)."""

    def __init__(self, stream):
        self.stream, self.asked = stream, None

    def build_image(self, archive, tag, dockerfile, build_args):
        self.asked = (archive, tag, dockerfile, build_args)
        yield from self.stream


def test_a_build_counts_its_steps_and_appends_each_line_to_the_progress_file_as_it_comes(tmp_path):
    progress = tmp_path / "build.log"
    stream = [{"stream": "Step 1/2 : FROM base\n"}, {"stream": "\n"}, {"stream": " ---> 1a2b\nStep 2/2 : RUN make\n"}]
    swarm, output = FakeSwarm(stream), Output(str(progress))
    assert build(swarm, PARAMS, "127.0.0.1:5000/todo:src-1", output) == 2
    assert swarm.asked == ("context.tar.gz", "127.0.0.1:5000/todo:src-1", "Dockerfile", {"N": "1"})  # args as text
    lines = ["Step 1/2 : FROM base", " ---> 1a2b", "Step 2/2 : RUN make"]  # blank lines left out
    assert output.lines == lines
    assert progress.read_text() == "".join(f"{line}\n" for line in lines)


def test_a_failed_build_names_its_step_and_keeps_the_error_in_its_output():
    stream = [{"stream": "Step 1/3 : FROM base\n"}, {"stream": "Step 2/3 : RUN exit 3\n"}, {"error": "returned 3\n"}]
    output = Output(None)  # no progress file: the lines are kept all the same
    with pytest.raises(BuildFailed, match=r"^the build failed at step 2/3 \(RUN exit 3\): returned 3$"):
        build(FakeSwarm(stream), PARAMS, "127.0.0.1:5000/todo:src-1", output)
    assert output.lines[-1] == "returned 3"


def test_a_build_that_fails_before_its_first_step_says_so():
    with pytest.raises(BuildFailed, match="at its start: Cannot locate specified Dockerfile"):
        build(FakeSwarm([{"error": "Cannot locate specified Dockerfile"}]), PARAMS, "x:y", Output(None))
