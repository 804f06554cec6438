"""The packages, end to end: build, install, use, remove.

1. `make deb` builds the .deb from the checkout, and leaves nothing in it;
2. `dpkg -i` installs it on this machine, in place of the development install;
3. ocf-tester passes on every installed agent, each against its real daemon:
   haproxy; mysql (MariaDB with Galera, under a single-node Pacemaker of this
   module's own); the four network agents and their neutron aliases (the
   Debian neutron agents, with a private RabbitMQ and Open vSwitch);
4. `crm ra info` and `pcs resource describe` print every parameter, and the
   README's crm and pcs examples load into a CIB;
5. `man ocf_mirantis_mysql` renders (and every agent has its page);
6. `dpkg -r` leaves no file behind.
Then `make rpm` builds a noarch rpm whose files are the .deb's.

This module replaces the development install under /usr/lib/ocf (what
`make install` put there) with the package for its duration, and puts it
back with `make install` at the end, whatever happens.  Run it on its own,
not beside other agent or cluster tests: they use the same files, and no
other Pacemaker cluster may run on the host.

Debian's container images exclude /usr/share/man and /usr/share/doc from
dpkg installs (/etc/dpkg/dpkg.cfg.d/excludes).  The dpkg -i here always
passes --path-include for the package's man pages and documentation, so that
step 5 tests the package, not the host's dpkg configuration.
"""
import gzip
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from typing import Dict, Iterator, List, NamedTuple

import pytest

import neutron_env as ne
from galera_env import GaleraNode
from support import INSTALLED, ROOT, agent_names, bare_env, call, free_port, pids_of
from test_haproxy import HAProxyWorld

PKG = "mirantis-ocf-agents"
LIBDIR = "/usr/lib/ocf/lib/mirantis"
DOCDIR = f"/usr/share/doc/{PKG}"
OWN_DIRS = [INSTALLED, LIBDIR, DOCDIR]       # nobody else's: gone after dpkg -r
PATH_INCLUDES = ["--path-include=/usr/share/man/man7/ocf_mirantis_*",
                 "--path-include=/usr/share/man/man8/q-agent-cleanup.8*",
                 f"--path-include={DOCDIR}/*"]
PCMK = os.path.join(ROOT, "tools", "pcmk-single.sh")
PCMK_STATE = "/var/tmp/mirantis-ocf/package-tier"
REQUIRED_TOOLS = ["dpkg-buildpackage", "dh", "rpmbuild", "rpm2cpio", "cpio", "dpkg-deb",
                  "ocf-tester", "crm", "pcs", "cibadmin", "man", "haproxy",
                  "mariadb-install-db", "neutron-dhcp-agent", "ovs-vsctl"]
NETWORK_KINDS = {"ovs": "openvswitch", "dhcp": "dhcp", "l3": "l3", "metadata": "metadata"}


def run(argv: List[str], timeout: float = 300, **kw) -> "subprocess.CompletedProcess[str]":  # type: ignore[no-untyped-def]
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=timeout, **kw)


def must(argv: List[str], timeout: float = 300, **kw) -> str:  # type: ignore[no-untyped-def]
    proc = run(argv, timeout, **kw)
    assert proc.returncode == 0, f"{' '.join(argv)} exited {proc.returncode}:\n" \
                                 f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc.stdout


def version() -> str:
    with open(os.path.join(ROOT, "setup.cfg")) as f:
        found = re.search(r"^version\s*=\s*(\S+)", f.read(), re.M)
    assert found
    return found.group(1)


def status() -> str:
    """The package's dpkg status ("" when dpkg does not know it)."""
    proc = run(["dpkg-query", "-W", "-f=${Status}", PKG])
    return proc.stdout.strip() if proc.returncode == 0 else ""


def deb_entries(deb: str) -> Dict[str, str]:
    """path -> type ('d' directory, '-' file, 'l' symlink), from `dpkg-deb -c`."""
    entries = {}
    for line in must(["dpkg-deb", "-c", deb]).splitlines():
        mode, _owner, _size, _date, _time, path = line.split(None, 5)
        path = "/" + path.split(" -> ")[0].lstrip("./").rstrip("/")
        entries[path.rstrip("/") or "/"] = mode[0]
    return entries


def rpm_entries(rpm: str) -> Dict[str, str]:
    out = must(["rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\n]", rpm])
    return {path: mode[0] for mode, path in (line.split(" ", 1) for line in out.splitlines())}


def expected_files() -> Dict[str, str]:
    """Every file the package must install, with its mode, from the checkout."""
    files = {f"{INSTALLED}/{a}": "-rwxr-xr-x" for a in agent_names()}      # the launchers
    files.update({f"{LIBDIR}/agents/{a}.py": "-rw-r--r--" for a in agent_names()
                  if not os.path.islink(os.path.join(ROOT, "agents", a))})     # the agents
    files.update({f"{LIBDIR}/metadata/{a}.xml": "-rw-r--r--" for a in agent_names()})
    files.update({f"/usr/share/man/man7/ocf_mirantis_{a}.7.gz": "-rw-r--r--"
                  for a in agent_names()})
    for name in os.listdir(os.path.join(ROOT, "lib", "mirantis_ocf")):
        if name.endswith(".py"):              # lib/ is exactly what ships
            files[f"{LIBDIR}/mirantis_ocf/{name}"] = "-rw-r--r--"
    files["/usr/sbin/q-agent-cleanup"] = "-rwxr-xr-x"
    files["/usr/share/man/man8/q-agent-cleanup.8.gz"] = "-rw-r--r--"
    for doc in ("README.md.gz", "changelog.Debian.gz", "copyright"):
        files[f"{DOCDIR}/{doc}"] = "-rw-r--r--"
    return files


class Built(NamedTuple):
    deb: str
    rpm: str


@pytest.fixture(scope="module")
def built() -> Built:
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    assert not missing, f"not installed: {missing} (`make deps` installs them)"
    timings = {}
    paths = {}
    for target, suffix in (("deb", ".deb"), ("rpm", ".rpm")):
        t0 = time.monotonic()
        out = must(["make", "-s", "-C", ROOT, target], timeout=600)
        timings[target] = time.monotonic() - t0
        last = [ln for ln in out.splitlines() if ln.endswith(suffix)][-1]
        paths[target] = os.path.join(ROOT, last.strip())
        assert os.path.isfile(paths[target]), last
    print(f"make deb: {timings['deb']:.1f}s, make rpm: {timings['rpm']:.1f}s")
    return Built(paths["deb"], paths["rpm"])


@pytest.fixture(scope="module")
def package(built: Built) -> Iterator[Built]:
    """The .deb installed by dpkg on a clean slate; the development install back afterwards."""
    if status():
        must(["dpkg", "--purge", PKG])           # left by an interrupted run
    try:
        must(["make", "-s", "-C", ROOT, "uninstall"])
        for d in (INSTALLED, LIBDIR):             # e.g. a __pycache__ of the dev install
            shutil.rmtree(d, ignore_errors=True)
        t0 = time.monotonic()
        must(["dpkg", "-i", *PATH_INCLUDES, built.deb])
        print(f"dpkg -i: {time.monotonic() - t0:.1f}s")
        yield built
    finally:
        if status():
            run(["dpkg", "--purge", PKG])
        must(["make", "-s", "-C", ROOT, "install"])


# --- 1. make deb ------------------------------------------------------------------

def test_deb_fields(built: Built) -> None:
    fields = {f: must(["dpkg-deb", "-f", built.deb, f]).strip()
              for f in ("Package", "Version", "Architecture", "Depends")}
    assert fields["Package"] == PKG and fields["Architecture"] == "all"
    assert fields["Version"].startswith(version() + "-")
    depends = {d.strip().split(" ")[0] for d in fields["Depends"].split(",")}
    assert {"python3", "python3-pymysql", "python3-psutil"} <= depends
    assert os.path.basename(built.deb) == f"{PKG}_{fields['Version']}_all.deb"


def test_deb_contents(built: Built) -> None:
    entries = deb_entries(built.deb)
    files = {p for p, kind in entries.items() if kind != "d"}
    assert files == set(expected_files()), (files ^ set(expected_files()))
    modes = {}
    for line in must(["dpkg-deb", "-c", built.deb]).splitlines():
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        modes["/" + path.lstrip("./")] = (mode, owner)
    for path, mode in expected_files().items():
        assert modes[path] == (mode, "root/root"), path
    assert not [p for p in entries if "__pycache__" in p or p.endswith(".pyc")]


def test_the_build_leaves_nothing_in_the_checkout(built: Built) -> None:
    debian = os.path.join(ROOT, "packaging", "debian")
    assert sorted(os.listdir(debian)) == ["changelog", "control", "copyright", "docs", "postrm",
                                          "prerm", "rules", "source"]
    assert os.listdir(os.path.join(debian, "source")) == ["format"]
    assert not os.path.exists(os.path.join(ROOT, "debian"))
    for where in (ROOT, os.path.dirname(ROOT)):
        assert not [n for n in os.listdir(where)
                    if n.endswith((".deb", ".changes", ".buildinfo", ".rpm"))], where
    # what the build writes is ignored by git: build/ and dist/
    ignored = run(["git", "-C", ROOT, "check-ignore", "build/x", "dist/x"]).stdout.split()
    assert ignored == ["build/x", "dist/x"]


# --- 2. dpkg -i ---------------------------------------------------------------------

def test_dpkg_installed_the_agents(package: Built) -> None:
    assert status() == "install ok installed"
    owned = set(must(["dpkg", "-L", PKG]).splitlines())
    for name in agent_names():
        path = os.path.join(INSTALLED, name)
        assert path in owned and os.access(path, os.X_OK)
        # no PATH, no PYTHONPATH: the packaged agent finds its packaged library
        rc, out, err = call(path, "meta-data", {})
        assert rc == 0 and err == ""
        with open(os.path.join(ROOT, "tests", "unit", "golden", f"{name}.xml")) as f:
            assert out == f.read()
        # the meta-data cache is served: dpkg-deb clamps mtimes to the changelog's date,
        # and a cache older than its agent would be ignored
        cache = os.path.join(LIBDIR, "metadata", f"{name}.xml")
        assert os.stat(cache).st_mtime_ns >= os.stat(path).st_mtime_ns, name
    assert "--reschedule" in must(["/usr/sbin/q-agent-cleanup", "--help"])


# --- 3. ocf-tester on every installed agent -------------------------------------------

def ocf_tester(instance: str, agent: str, params: Dict[str, str], timeout: float = 600) -> str:
    opts = [arg for key, value in params.items() for arg in ("-o", f"{key}={value}")]
    t0 = time.monotonic()
    proc = run(["ocf-tester", "-n", instance, *opts, os.path.join(INSTALLED, agent)], timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed all tests" in proc.stdout
    print(f"ocf-tester {agent}: {time.monotonic() - t0:.1f}s")
    return proc.stdout


def test_ocf_tester_haproxy(package: Built, workdir: str) -> None:
    hx = HAProxyWorld(workdir)
    try:
        ocf_tester("p_haproxy", "haproxy", {"conffile": hx.conf, "pidfile": hx.pidfile})
        assert hx.processes() == []
    finally:
        for pid in hx.processes():
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(package: Built) -> Iterator[None]:
    """mysql publishes its epoch and claims in the CIB: a single-node Pacemaker of our own."""
    env = dict(os.environ, PCMK_STATE=PCMK_STATE)
    started = run([PCMK, "start"], 200, env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield
    finally:
        run([PCMK, "stop"], 300, env=env)


def test_ocf_tester_mysql(cluster: None, workdir: str) -> None:
    galera = GaleraNode(os.path.join(workdir, "galera"), port=free_port(), gport=free_port())
    galera.prepare()
    try:
        ocf_tester("p_mysql", "mysql", galera.params())
    finally:
        call(os.path.join(INSTALLED, "mysql"), "stop", bare_env(**galera.params()), timeout=180)
        for pid in pids_of(f"--datadir={galera.datadir}"):
            os.kill(pid, signal.SIGKILL)


Network = ne.AgentsWorld


@pytest.fixture(scope="module")
def network(package: Built) -> Iterator[Network]:
    with ne.agents_world("mirantis-ocf-package-") as world:
        yield world


@pytest.mark.parametrize("agent", [f"{flavour}-agent-{kind}" for kind in sorted(NETWORK_KINDS)
                                   for flavour in ("quantum", "neutron")])
def test_ocf_tester_network_agent(network: Network, agent: str) -> None:
    kind = agent.rsplit("-", 1)[1]
    daemon = NETWORK_KINDS[kind]
    params = {"binary": network.conf.binary(daemon), "config": network.conf.neutron_conf,
              "agent_config" if kind == "metadata" else "plugin_config": network.conf.ini(daemon),
              "user": "neutron", "pid": os.path.join(network.dir, f"{agent}.pid"),
              "log_file": os.path.join(network.conf.log_dir, f"{agent}-ocf.log"),
              "amqp_server_port": str(network.rabbit.port)}
    if kind == "ovs":
        params["ovsdb"] = network.ovs.connection
    if kind in ("dhcp", "l3"):
        params["reschedule"] = "false"     # no Neutron API here; tested in the cluster tier
    ocf_tester(f"p_{kind}", agent, params)
    assert ne.pids_mentioning(network.conf.neutron_conf) == []


def test_every_installed_agent_was_tested(package: Built) -> None:
    tested = {"haproxy", "mysql"} | {f"{flavour}-agent-{kind}" for kind in NETWORK_KINDS
                                     for flavour in ("quantum", "neutron")}
    assert sorted(os.listdir(INSTALLED)) == sorted(tested) == agent_names()


# --- 4. crm ra info, pcs resource describe ------------------------------------------

def installed_parameters(agent: str) -> List[str]:
    rc, out, _ = call(os.path.join(INSTALLED, agent), "meta-data", {})
    assert rc == 0
    return [p.get("name", "") for p in ET.fromstring(out.split("\n", 2)[2]).iter("parameter")]


@pytest.mark.parametrize("agent", agent_names())
def test_crm_and_pcs_describe_every_parameter(package: Built, agent: str) -> None:
    params = installed_parameters(agent)
    assert params
    crm = must(["crm", "ra", "info", f"ocf:mirantis:{agent}"], 60)
    pcs = must(["pcs", "resource", "describe", f"ocf:mirantis:{agent}"], 60)
    for name in params:
        assert re.search(rf"^{re.escape(name)} \(", crm, re.M), (name, crm)
        assert re.search(rf"^\s+{re.escape(name)}:", pcs, re.M), (name, pcs)


def readme_examples(kind: str) -> List[str]:
    with open(os.path.join(ROOT, "README.md")) as f:
        reference = f.read().split("<!-- BEGIN AGENT REFERENCE -->", 1)[1]
    return re.findall(rf"With {kind}:\n\n```\n(.*?)\n```", reference, re.S)


def test_the_readme_examples_load(package: Built, workdir: str) -> None:
    """Every agent's crm and pcs example, as printed, into an offline CIB."""
    assert len(readme_examples("crmsh")) == len(readme_examples("pcs")) == len(agent_names())
    cib = os.path.join(workdir, "pcs.xml")
    with open(cib, "w") as f:
        f.write(must(["cibadmin", "--empty"]))
    for example in readme_examples("pcs"):
        argv = shlex.split(example.replace("\\\n", " "))
        must([argv[0], "-f", cib, *argv[1:]], 60)
    with open(cib) as f:
        text = f.read()
    assert text.count("<primitive ") == len(agent_names())
    crm_file = os.path.join(workdir, "crm.xml")
    with open(crm_file, "w") as f:
        f.write(must(["cibadmin", "--empty"]))
    script = os.path.join(workdir, "examples.crm")
    with open(script, "w") as f:
        f.write("property stonith-enabled=false\n" + "\n".join(readme_examples("crmsh")) + "\n")
    must(["crm", "configure", "load", "update", script], 120,
         env=dict(os.environ, CIB_file=crm_file))
    with open(crm_file) as f:
        text = f.read()
    assert text.count("<primitive ") == len(agent_names())
    assert 'id="clone_p_mysql"' in text


# --- 5. man ocf_mirantis_mysql ---------------------------------------------------------

def test_man_pages_render(package: Built) -> None:
    for agent in agent_names():
        page = f"/usr/share/man/man7/ocf_mirantis_{agent}.7.gz"
        # (-a: a `make install` run meanwhile by another test would add an uncompressed copy)
        assert page in must(["man", "-aw", f"ocf_mirantis_{agent}"]).split(), agent
        assert must(["dpkg", "-S", page]).startswith(f"{PKG}: ")
    env = dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="100", LC_ALL="C.UTF-8")
    for argv in (["man", "--warnings", "ocf_mirantis_mysql"],
                 ["man", "--warnings", "-l", "/usr/share/man/man7/ocf_mirantis_mysql.7.gz"]):
        proc = run(argv, 60, env=env)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        check_mysql_page(proc.stdout)
    cleanup = run(["man", "--warnings", "q-agent-cleanup"], 60, env=env)
    assert cleanup.returncode == 0 and "--reschedule" in cleanup.stdout, cleanup.stderr


def check_mysql_page(text: str) -> None:
    assert "ocf_mirantis_mysql - MariaDB Galera member" in text
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "PARAMETERS", "ACTIONS", "EXAMPLES",
                    "SEE ALSO"):
        assert re.search(rf"^{section}$", text, re.M), section
    for name in installed_parameters("mysql"):
        assert re.search(rf"^\s+{re.escape(name)} \(", text, re.M), name
    assert "replication_passwd (string, default empty, secret)" in text
    assert "client_binary (string, default \"mysql\", deprecated)" in text
    assert "start  timeout 450s" in text
    assert "primitive p_mysql ocf:mirantis:mysql" in text
    assert "pcs resource create p_mysql ocf:mirantis:mysql" in text


# --- the rpm ---------------------------------------------------------------------------

def unpack(path: str, into: str) -> Dict[str, bytes]:
    """Every file of a package, by path, with .gz files decompressed (and renamed)."""
    os.makedirs(into)
    if path.endswith(".deb"):
        must(["dpkg-deb", "-x", path, into])
    else:
        must(["sh", "-ec", 'rpm2cpio "$1" > "$2/payload.cpio"; cd "$2"; cpio -idm --quiet '
              '< payload.cpio; rm payload.cpio', "sh", path, into])
    files = {}
    for dirpath, _dirs, names in os.walk(into):
        for name in names:
            full = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(full, into)
            with open(full, "rb") as f:
                data = f.read()
            if rel.endswith(".gz"):
                data, rel = gzip.decompress(data), rel[:-3]
            files[rel] = data
            files[rel + ":mode"] = oct(os.stat(full).st_mode).encode()
    return files


def test_rpm_is_noarch_and_holds_the_debs_files(built: Built, tmp_path: str) -> None:
    assert os.path.basename(built.rpm) == f"{PKG}-{version()}-1.noarch.rpm"
    assert must(["rpm", "-qp", "--qf", "%{ARCH} %{NAME} %{VERSION}", built.rpm]) == \
        f"noarch {PKG} {version()}"
    requires = set(must(["rpm", "-qpR", built.rpm]).split())
    assert {"python3", "python3-PyMySQL", "python3-psutil"} <= requires
    # the file lists: the same files (the .deb alone has Debian's changelog and copyright;
    # dh_compress also gzips the README, brp-compress only the man pages)
    debian_only = {f"{DOCDIR}/changelog.Debian.gz", f"{DOCDIR}/copyright"}
    deb = {re.sub(r"\.gz$", "", p) for p, kind in deb_entries(built.deb).items()
           if kind != "d" and p not in debian_only}
    # (the rpm alone has the licence text: Debian's copyright points to common-licenses)
    rpm_only = {f"/usr/share/licenses/{PKG}/COPYING"}
    rpm = {re.sub(r"\.gz$", "", p) for p, kind in rpm_entries(built.rpm).items()
           if kind != "d" and p not in rpm_only}
    assert rpm == deb, rpm ^ deb
    assert rpm_only <= set(rpm_entries(built.rpm))
    # the directories the rpm owns: the deb's own ones, and the OCF tree's
    # parents, which it shares with resource-agents and pacemaker
    assert {p for p, kind in rpm_entries(built.rpm).items() if kind == "d"} == \
        {INSTALLED, LIBDIR, f"{LIBDIR}/metadata", f"{LIBDIR}/mirantis_ocf", f"{LIBDIR}/agents",
         DOCDIR, "/usr/lib/ocf", "/usr/lib/ocf/lib", "/usr/lib/ocf/resource.d", f"/usr/share/licenses/{PKG}"}
    # and the same bytes, modes included (man pages decompressed)
    deb_files = unpack(built.deb, os.path.join(str(tmp_path), "deb"))
    rpm_files = unpack(built.rpm, os.path.join(str(tmp_path), "rpm"))
    for path in debian_only:
        deb_files.pop(path[:-3] if path.endswith(".gz") else path)
        deb_files.pop((path[:-3] if path.endswith(".gz") else path) + ":mode")
    for path in rpm_only:
        rpm_files.pop(path)
        rpm_files.pop(path + ":mode")
    assert sorted(deb_files) == sorted(rpm_files)
    different = [p for p in deb_files if deb_files[p] != rpm_files[p]]
    assert different == []


# --- 6. dpkg -r --------------------------------------------------------------------------

def test_dpkg_remove_leaves_no_file_behind(package: Built) -> None:
    entries = deb_entries(package.deb)
    # an agent run as root writes the library's bytecode beside it, as under Pacemaker
    rc, _, err = call(os.path.join(INSTALLED, "haproxy"), "validate-all",
                      bare_env(conffile="/nonexistent.cfg"))
    assert "Traceback" not in err
    assert os.path.isdir(os.path.join(LIBDIR, "mirantis_ocf", "__pycache__"))
    t0 = time.monotonic()
    proc = run(["dpkg", "-r", PKG])
    print(f"dpkg -r: {time.monotonic() - t0:.1f}s")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not empty" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    left = [p for p, kind in entries.items() if kind != "d" and os.path.lexists(p)]
    assert left == []
    assert [d for d in OWN_DIRS if os.path.lexists(d)] == []
    # a directory of the package that is still there belongs to another package
    for d in (p for p, kind in entries.items() if kind == "d" and p != "/" and os.path.isdir(p)):
        assert run(["dpkg", "-S", d]).returncode == 0, f"{d} left behind by nobody's package"
    # dpkg keeps the package's postrm until a purge; the purge removes nothing more
    assert status() in ("deinstall ok config-files", "unknown ok not-installed", "")
    must(["dpkg", "--purge", PKG])
    assert status() in ("unknown ok not-installed", "")
