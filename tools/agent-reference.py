#!/usr/bin/python3
"""Render the README's agent reference from the agents' own meta-data.

The README must not be a second hand-kept copy of the parameters, so this
writes the part between the BEGIN/END markers.  `make readme` runs it;
tests/unit/test_readme.py fails when the README is out of date.

    tools/agent-reference.py          print the reference
    tools/agent-reference.py --write  update README.md in place
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- BEGIN AGENT REFERENCE -->", "<!-- END AGENT REFERENCE -->"


def reference() -> str:
    parts = []
    for name in sorted(os.listdir(os.path.join(ROOT, "agents"))):
        xml = subprocess.run([sys.executable, os.path.join(ROOT, "agents", name), "meta-data"],
                             capture_output=True, text=True, check=True, env={}).stdout
        root = ET.fromstring(xml.split("\n", 2)[2])
        parts.append(f"### `ocf:mirantis:{name}`: {root.findtext('shortdesc')}\n")
        for paragraph in (root.findtext("longdesc") or "").strip().split("\n\n"):
            parts.append(" ".join(paragraph.split()) + "\n")
        parts.append("| parameter | default | description |\n|---|---|---|")
        for p in root.iter("parameter"):
            default = p.find("content").get("default", "")
            desc = " ".join((p.findtext("longdesc") or "").split()).replace("|", "\\|")
            parts.append(f"| `{p.get('name')}` | `{default}` | {desc} |")
        actions = ", ".join(
            a.get("name") + (f" (every {a.get('interval')})" if a.get("interval") else "")
            + f" {a.get('timeout')}" for a in root.iter("action"))
        parts.append(f"\nActions and advised timeouts: {actions}.\n")
    return "\n".join(parts)


def main() -> int:
    text = reference()
    if sys.argv[1:] != ["--write"]:
        print(text)
        return 0
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        readme = f.read()
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
