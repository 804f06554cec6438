"""A secret parameter never appears in argv, logs, exit reasons or a daemon's environment."""
import os

from support import ROOT, bare_env, call

AGENT = os.path.join(ROOT, "tests", "agents", "data", "secretive")
SECRET = "Tr0ub4dor&3-secret"


def test_secret_stays_secret(workdir: str) -> None:
    logfile = os.path.join(workdir, "ha.log")
    pidfile = os.path.join(workdir, "sleep.pid")
    env = bare_env(OCF_RESOURCE_INSTANCE="s1", password=SECRET, pidfile=pidfile,
                   HA_LOGFILE=logfile, HA_debug="1",
                   OCF_RESKEY_CRM_meta_interval="10000")
    env["MIRANTIS_OCF_LIB"] = os.path.join(ROOT, "lib")
    rc, out, err = call(AGENT, "start", env)
    assert rc == 0, err
    with open(pidfile) as f:
        pid = int(f.read())
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert SECRET.encode() not in f.read()
        with open(f"/proc/{pid}/environ", "rb") as f:
            environ = f.read()
        assert SECRET.encode() not in environ and b"OCF_RESKEY_" not in environ
        rc, out2, err2 = call(AGENT, "monitor", env)
        assert rc == 1 and "ocf-exit-reason:cannot log in with password ******" in err2
    finally:
        call(AGENT, "stop", env)
    with open(logfile) as f:
        log = f.read()
    assert "starting with password ******" in log and "run: /bin/true" in log
    for text in (out, err, out2, err2, log):
        assert SECRET not in text
