"""`make install DESTDIR=...` gives agents that run under /usr/bin/python3 with a bare environment."""
import filecmp
import os
import stat
import subprocess

from support import INSTALLED, ROOT, agent_names, call


def test_destdir_install_layout_and_bare_run(workdir: str) -> None:
    subprocess.run(["make", "-s", "-C", ROOT, "install", f"DESTDIR={workdir}"], check=True,
                   capture_output=True)
    agent_dir = os.path.join(workdir, "usr/lib/ocf/resource.d/mirantis")
    lib_dir = os.path.join(workdir, "usr/lib/ocf/lib/mirantis")
    for name in agent_names():
        path = os.path.join(agent_dir, name)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
        with open(path) as f:
            assert f.readline() == "#!/usr/bin/python3 -S\n"     # no site: see runner.py
        # no PATH, no PYTHONPATH, no pip: the agent finds its library by itself
        rc, out, err = call(path, "meta-data", {})
        assert rc == 0 and err == ""
        golden = os.path.join(ROOT, "tests", "unit", "golden", f"{name}.xml")
        with open(golden) as f:
            assert out == f.read()
        assert filecmp.cmp(os.path.join(lib_dir, "metadata", f"{name}.xml"), golden, shallow=False)
    assert os.path.isfile(os.path.join(lib_dir, "mirantis_ocf", "runner.py"))
    # the rescheduling tool finds the library of its own install
    tool = os.path.join(workdir, "usr/sbin/q-agent-cleanup")
    rc, out, err = call(tool, "--help", {"OCF_ROOT": os.path.join(workdir, "usr/lib/ocf")})
    assert rc == 0 and "--reschedule" in out and err == ""


def test_meta_data_and_usage_as_nobody_with_no_environment() -> None:
    for name in agent_names():
        for action in ("meta-data", "usage"):
            proc = subprocess.run(["runuser", "-u", "nobody", "--", "env", "-i",
                                   os.path.join(INSTALLED, name), action],
                                  capture_output=True, text=True, cwd="/")
            assert proc.returncode == 0 and proc.stdout and proc.stderr == "", proc.stderr


def test_stale_cache_is_not_served(workdir: str) -> None:
    """An agent edited in place renders its meta-data afresh rather than serve an old cache."""
    subprocess.run(["make", "-s", "-C", ROOT, "install", f"DESTDIR={workdir}"], check=True,
                   capture_output=True)
    cache = os.path.join(workdir, "usr/lib/ocf/lib/mirantis/metadata/haproxy.xml")
    with open(cache, "w") as f:
        f.write('<?xml version="1.0"?>\n<stale/>\n')
    agent = os.path.join(workdir, "usr/lib/ocf/resource.d/mirantis/haproxy")
    assert call(agent, "meta-data", {})[1] == '<?xml version="1.0"?>\n<stale/>\n'   # cache served
    os.utime(agent)   # the agent is now newer than its cache
    rc, out, _ = call(agent, "meta-data", {})
    assert rc == 0 and "<stale/>" not in out and 'name="haproxy"' in out
