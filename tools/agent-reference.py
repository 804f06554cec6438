#!/usr/bin/python3
"""Render the agents' reference from their own meta-data: README and man pages.

The README must not be a second hand-kept copy of the parameters, so this
writes the part between the BEGIN/END markers.  `make readme` runs it;
tests/unit/test_readme.py fails when the README is out of date.  The man
pages, ocf_mirantis_<agent>(7), are rendered from the same meta-data by
`make install` (and so by the Debian and RPM packages).

    tools/agent-reference.py              print the README reference
    tools/agent-reference.py --write      update README.md in place
    tools/agent-reference.py --man DIR    write DIR/man7/ocf_mirantis_<agent>.7
                                          and DIR/man8/q-agent-cleanup.8

Each agent is run (`agents/<name> meta-data`, empty environment, no
bytecode written), exactly as Pacemaker would ask it.  The man pages' date
is $SOURCE_DATE_EPOCH's when it is set (the package builds set it from the
Debian changelog), so that they are reproducible.
"""
import datetime
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Dict, List, NamedTuple, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- BEGIN AGENT REFERENCE -->", "<!-- END AGENT REFERENCE -->"
PROVIDER = "mirantis"
AGENT_DIR = f"/usr/lib/ocf/resource.d/{PROVIDER}"

# What lib/mirantis_ocf/metadata.py appends to a parameter's longdesc.
DEPRECATED = "Deprecated: "
SECRET = "This value is secret: it never appears in logs, exit reasons or argv."

# The examples: which parameters each agent's example sets (value None: the
# agent's own default, so the quantum and neutron flavours each show
# theirs), and whether it runs as a clone, as Fuel's seed configures it.
# Every name here must exist in the agent's meta-data, or rendering fails.
Example = List[Tuple[str, Optional[str]]]
EXAMPLES: Dict[str, Tuple[Example, bool]] = {
    "haproxy": ([("conffile", None)], True),
    "mysql": ([("config", "/etc/mysql/my.cnf"), ("binary", "/usr/sbin/mariadbd"),
               ("node_addresses", "node-1=10.0.0.1 node-2=10.0.0.2 node-3=10.0.0.3")], True),
    "ovs": ([("config", None), ("plugin_config", None)], True),
    "metadata": ([("config", None), ("agent_config", None)], True),
    "dhcp": ([("config", None), ("plugin_config", None),
              ("os_auth_url", "http://10.0.0.10:5000/v3")], False),
    "l3": ([("config", None), ("plugin_config", None),
            ("os_auth_url", "http://10.0.0.10:5000/v3")], False),
}


class Param(NamedTuple):
    name: str
    shortdesc: str
    text: str            # the longdesc without the deprecated/secret notes
    type: str
    default: Optional[str]
    required: bool
    unique: bool
    deprecated: str
    secret: bool


class Action(NamedTuple):
    name: str
    timeout: str
    interval: str
    depth: str


class Meta(NamedTuple):
    name: str
    shortdesc: str
    longdesc: str
    params: List[Param]
    actions: List[Action]


def agent_names() -> List[str]:
    folder = os.path.join(ROOT, "agents")
    return sorted(n for n in os.listdir(folder)
                  if not n.startswith(".") and os.path.isfile(os.path.join(folder, n)))


def meta_data_xml(name: str) -> str:
    return subprocess.run([sys.executable, "-B", os.path.join(ROOT, "agents", name), "meta-data"],
                          capture_output=True, text=True, check=True, env={}).stdout


def parse(name: str, xml: str) -> Meta:
    root = ET.fromstring(xml.split("\n", 2)[2])   # past the XML declaration and the DOCTYPE
    params = []
    for p in root.iter("parameter"):
        content = p.find("content")
        assert content is not None, (name, p.get("name"))
        paragraphs = (p.findtext("longdesc") or "").strip().split("\n\n")
        deprecated, secret, text = "", False, []
        for paragraph in paragraphs:
            if paragraph.startswith(DEPRECATED):
                deprecated = paragraph[len(DEPRECATED):].strip()
            elif paragraph.strip() == SECRET:
                secret = True
            else:
                text.append(paragraph)
        params.append(Param(p.get("name", ""), (p.findtext("shortdesc") or "").strip(),
                            "\n\n".join(text), content.get("type", "string"),
                            content.get("default"), p.get("required") == "1",
                            p.get("unique") == "1", deprecated, secret))
    actions = [Action(a.get("name", ""), a.get("timeout", ""), a.get("interval", ""),
                      a.get("depth", "")) for a in root.iter("action")]
    return Meta(name, (root.findtext("shortdesc") or "").strip(),
                (root.findtext("longdesc") or "").strip(), params, actions)


def load(name: str) -> Meta:
    return parse(name, meta_data_xml(name))


# -- examples, in crm and pcs syntax -------------------------------------------

def _quote(value: str) -> str:
    """A value as both crmsh and a POSIX shell (for pcs) read it back."""
    if value and re.fullmatch(r"[A-Za-z0-9_./:,@%+=-]+", value):
        return value
    return '"' + re.sub(r'(["\\$`])', r"\\\1", value) + '"'


def example_params(meta: Meta) -> Tuple[List[Tuple[str, str]], bool]:
    """The example's parameters: every required one, then the chosen ones."""
    kind = meta.name if meta.name in EXAMPLES else meta.name.rsplit("-", 1)[-1]
    chosen, clone = EXAMPLES[kind]
    by_name = {p.name: p for p in meta.params}
    out: List[Tuple[str, str]] = []
    for p in meta.params:
        if p.required:
            out.append((p.name, p.default or f"<{p.name}>"))
    for name, value in chosen:
        if name not in by_name:
            raise SystemExit(f"agent-reference: the example of {meta.name} names {name}, "
                             "which its meta-data does not declare")
        if name not in dict(out):
            out.append((name, value if value is not None else by_name[name].default or ""))
    return out, clone


def _wrap(words: List[str], first: str, rest: str, width: int = 76) -> List[str]:
    """Words (never split) on as few lines as fit in width, less the " \\"."""
    lines: List[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width - 2:
            lines[-1] += " " + word
        else:
            lines.append((rest if lines else first) + word)
    return lines


def _op(meta: Meta, action: str) -> Optional[Action]:
    return next((a for a in meta.actions if a.name == action), None)


def crm_example(meta: Meta) -> str:
    params, clone = example_params(meta)
    rsc = f"p_{meta.name}"
    lines = [f"primitive {rsc} ocf:{PROVIDER}:{meta.name}"]
    if params:
        lines += _wrap(["params", *(f"{k}={_quote(v)}" for k, v in params)], "    ", "        ")
    monitor, start, stop = _op(meta, "monitor"), _op(meta, "start"), _op(meta, "stop")
    if monitor:
        lines.append(f"    op monitor interval={monitor.interval or '20s'} timeout={monitor.timeout}")
    for op in (start, stop):
        if op:
            lines.append(f"    op {op.name} interval=0 timeout={op.timeout}")
    text = " \\\n".join(lines)
    if clone:
        text += f"\nclone clone_{rsc} {rsc} meta interleave=true"
    return text


def pcs_example(meta: Meta) -> str:
    params, clone = example_params(meta)
    rsc = f"p_{meta.name}"
    lines = [f"pcs resource create {rsc} ocf:{PROVIDER}:{meta.name}"]
    if params:
        lines += _wrap([f"{k}={_quote(v)}" for k, v in params], "    ", "    ")
    ops = []
    monitor, start, stop = _op(meta, "monitor"), _op(meta, "start"), _op(meta, "stop")
    if monitor:
        ops.append(f"op monitor interval={monitor.interval or '20s'} timeout={monitor.timeout}")
    ops += [f"op {op.name} timeout={op.timeout}" for op in (start, stop) if op]
    lines += _wrap(ops, "    ", "    ")
    if clone:
        lines.append(f"    clone clone_{rsc} interleave=true")
    return " \\\n".join(lines)


# -- the README ----------------------------------------------------------------

def reference() -> str:
    parts = []
    for name in agent_names():
        meta = load(name)
        parts.append(f"### `ocf:{PROVIDER}:{name}`: {meta.shortdesc}\n")
        for paragraph in meta.longdesc.split("\n\n"):
            parts.append(" ".join(paragraph.split()) + "\n")
        parts.append("| parameter | default | description |\n|---|---|---|")
        for p in meta.params:
            desc = " ".join(p.text.split())
            if p.deprecated:
                desc += " Deprecated: " + " ".join(p.deprecated.split())
            if p.secret:
                desc += " " + SECRET
            default = p.default or ""
            parts.append(f"| `{p.name}` | `{default}` | {desc.replace('|', chr(92) + '|')} |")
        actions = ", ".join(
            a.name + (f" (every {a.interval})" if a.interval else "") + f" {a.timeout}"
            for a in meta.actions)
        parts.append(f"\nActions and advised timeouts: {actions}.\n")
        parts.append(f"With crmsh:\n\n```\n{crm_example(meta)}\n```\n")
        parts.append(f"With pcs:\n\n```\n{pcs_example(meta)}\n```\n")
    return "\n".join(parts)


# -- man pages -----------------------------------------------------------------

def version() -> str:
    with open(os.path.join(ROOT, "setup.cfg")) as f:
        found = re.search(r"^version\s*=\s*(\S+)", f.read(), re.M)
    assert found, "no version in setup.cfg"
    return found.group(1)


def man_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
            else datetime.datetime.now(datetime.timezone.utc))
    return when.strftime("%Y-%m-%d")


def roff(text: str) -> str:
    """Plain text as roff: escapes, ASCII hyphens, no line read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + ln if ln.startswith((".", "'")) else ln for ln in text.split("\n"))


def roff_paragraphs(text: str) -> List[str]:
    out = []
    for paragraph in text.strip().split("\n\n"):
        if paragraph.strip():
            out += [".PP", roff(" ".join(paragraph.split()))]
    return out


def roff_literal(text: str) -> List[str]:
    return [".PP", ".RS 4", ".nf", roff(text), ".fi", ".RE"]


def man_page(meta: Meta, aliases: List[str]) -> str:
    page = f"ocf_{PROVIDER}_{meta.name}"
    header = [f'.\\" Generated by tools/agent-reference.py from the meta-data of {meta.name}; '
              "do not edit.",
              f'.TH {page.upper().replace("-", "_")} 7 "{man_date()}" '
              f'"mirantis-ocf-agents {version()}" "OCF resource agents"',
              ".nh", ".ad l",
              ".SH NAME", f"{roff(page)} \\- {roff(meta.shortdesc)}",
              ".SH SYNOPSIS",
              f"[\\fBOCF_RESKEY_\\fIparameter\\fB=\\fIvalue\\fR ...] "
              f"\\fB{roff(AGENT_DIR)}/{roff(meta.name)}\\fR "
              "{" + "|".join(f"\\fB{roff(a.name)}\\fR" for a in meta.actions) + "}",
              ".SH DESCRIPTION", *roff_paragraphs(meta.longdesc),
              ".PP", f"Pacemaker names the agent \\fBocf:{PROVIDER}:{roff(meta.name)}\\fR; "
              "its parameters reach it as \\fBOCF_RESKEY_\\fIname\\fR environment variables.",
              ".SH PARAMETERS"]
    body = []
    for p in meta.params:
        facts = [p.type]
        facts.append("required" if p.required else
                     f'default "{roff(p.default)}"' if p.default else "default empty")
        if p.unique:
            facts.append("unique")
        if p.deprecated:
            facts.append("deprecated")
        if p.secret:
            facts.append("secret")
        body += [".TP", f"\\fB{roff(p.name)}\\fR ({', '.join(facts)})",
                 roff(" ".join((p.text or p.shortdesc).split()))]
        if p.deprecated:
            body += [".IP", "Deprecated: " + roff(" ".join(p.deprecated.split()))]
        if p.secret:
            body += [".IP", roff(SECRET)]
    body.append(".SH ACTIONS")
    for a in meta.actions:
        facts = [f"timeout {a.timeout}"]
        if a.interval:
            facts.insert(0, f"every {a.interval}")
        if a.depth and a.depth != "0":
            facts.append(f"depth {a.depth}")
        body += [".TP", f"\\fB{roff(a.name)}\\fR", roff(", ".join(facts))]
    body += [".SH EXAMPLES", ".PP", "With crmsh (\\fBcrm configure\\fR):",
             *roff_literal(crm_example(meta)), ".PP", "With pcs:",
             *roff_literal(pcs_example(meta)),
             ".PP", "Run an action by hand, as Pacemaker does:",
             *roff_literal(" \\\n".join(_wrap(
                 ["OCF_ROOT=/usr/lib/ocf", *(f"OCF_RESKEY_{k}={_quote(v)}"
                                             for k, v in example_params(meta)[0])], "", "    ")
                 + [f"    {AGENT_DIR}/{meta.name} validate-all"]))]
    body += [".SH FILES", ".TP", f"\\fB{roff(AGENT_DIR)}/{roff(meta.name)}\\fR", "The agent.",
             ".TP", f"\\fB/usr/lib/ocf/lib/{PROVIDER}/\\fR",
             "Its library (\\fBmirantis_ocf\\fR) and its meta\\-data, rendered at install time."]
    see = [f"\\fBocf_{PROVIDER}_{roff(a)}\\fR(7)" for a in aliases]
    see += ["\\fBcrm\\fR(8)", "\\fBpcs\\fR(8)", "\\fBcrm_resource\\fR(8)", "\\fBocf\\-tester\\fR(8)"]
    if meta.name.endswith(("-dhcp", "-l3")):
        see.append("\\fBq\\-agent\\-cleanup\\fR(8)")
    body += [".SH SEE ALSO", ",\n".join(see)]
    return "\n".join(header + body) + "\n"


def cleanup_page() -> str:
    """q-agent-cleanup(8), from its own --help."""
    tool = os.path.join(ROOT, "tools", "q-agent-cleanup")
    help_text = subprocess.run([sys.executable, "-B", tool, "--help"], capture_output=True,
                               text=True, check=True, env={"COLUMNS": "78"}).stdout
    usage, _, rest = help_text.partition("\n\n")
    usage = re.sub(r"\n {7}", "\n", usage.replace("usage: ", "", 1))   # argparse's indent
    return "\n".join([
        '.\\" Generated by tools/agent-reference.py from q-agent-cleanup --help; do not edit.',
        f'.TH Q_AGENT_CLEANUP 8 "{man_date()}" "mirantis-ocf-agents {version()}" '
        '"System administration"',
        ".nh", ".ad l",
        ".SH NAME", "q\\-agent\\-cleanup \\- reschedule the networks and routers of dead "
        "Neutron agents, and clean up",
        ".SH SYNOPSIS", ".nf", roff(usage), ".fi",
        ".SH DESCRIPTION", ".nf", roff(rest.rstrip()), ".fi",
        ".SH SEE ALSO",
        f"\\fBocf_{PROVIDER}_quantum\\-agent\\-dhcp\\fR(7),\n"
        f"\\fBocf_{PROVIDER}_quantum\\-agent\\-l3\\fR(7)"]) + "\n"


def write_man_pages(mandir: str) -> List[str]:
    names = agent_names()
    metas = {n: load(n) for n in names}
    written = []
    os.makedirs(os.path.join(mandir, "man7"), exist_ok=True)
    os.makedirs(os.path.join(mandir, "man8"), exist_ok=True)
    for name in names:
        flavour = name.split("-", 1)[0]
        kind = name.rsplit("-", 1)[-1]
        other = {"quantum": "neutron", "neutron": "quantum"}.get(flavour)
        aliases = [f"{other}-agent-{kind}"] if other and f"{other}-agent-{kind}" in names else []
        written.append(_write(os.path.join(mandir, "man7", f"ocf_{PROVIDER}_{name}.7"),
                              man_page(metas[name], aliases)))
    written.append(_write(os.path.join(mandir, "man8", "q-agent-cleanup.8"), cleanup_page()))
    return written


def _write(path: str, text: str) -> str:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--man"] and len(args) == 2:
        for path in write_man_pages(args[1]):
            print(path)
        return 0
    text = reference()
    if not args:
        print(text)
        return 0
    if args != ["--write"]:
        print(__doc__, file=sys.stderr)
        return 2
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
