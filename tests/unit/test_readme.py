"""The README's agent reference is generated from the meta-data, never kept by hand."""
import os
import subprocess
import sys

from support import ROOT


def test_readme_reference_matches_the_meta_data() -> None:
    tool = os.path.join(ROOT, "tools", "agent-reference.py")
    expected = subprocess.run([sys.executable, tool], capture_output=True, text=True,
                              check=True).stdout
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    section = readme.split("<!-- BEGIN AGENT REFERENCE -->\n", 1)[1].split(
        "\n<!-- END AGENT REFERENCE -->", 1)[0]
    assert section + "\n" == expected, "README is out of date: run `make readme`"
