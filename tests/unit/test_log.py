"""Logging follows the HA_* conventions."""
import io
import os
import re

from mirantis_ocf.log import Log


def make(env: dict) -> "tuple[Log, io.StringIO]":
    err = io.StringIO()
    return Log("haproxy", "p_haproxy", env, err), err


def test_tag_is_agent_instance_pid() -> None:
    log, err = make({})
    log.info("hello")
    assert err.getvalue() == f"haproxy(p_haproxy)[{os.getpid()}]: INFO: hello\n"


def test_ha_debug_zero_means_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log, err = make({"HA_debug": "0"})
    log.debug("quiet")
    assert err.getvalue() == ""
    log, err = make({"HA_debug": "1"})
    log.debug("loud")
    assert "DEBUG: loud" in err.getvalue()


def test_logfile_takes_info_and_stderr_keeps_warnings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "ha.log"
    log, err = make({"HA_LOGFILE": str(path)})
    log.info("to file")
    log.warning("to both")
    text = path.read_text()
    assert re.search(r"haproxy\(p_haproxy\)\[\d+\]: INFO: to file", text)
    assert "to both" in text and "to both" in err.getvalue() and "to file" not in err.getvalue()


def test_debuglog_gets_debug_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "debug.log"
    log, _ = make({"HA_DEBUGLOG": str(path)})
    log.debug("detail")
    assert "DEBUG: detail" in path.read_text()


def test_unwritable_logfile_is_harmless() -> None:
    log, err = make({"HA_LOGFILE": "/nonexistent/dir/ha.log"})
    log.error("still fine")
    assert "still fine" in err.getvalue()


def test_secrets_are_masked_and_lines_stay_single() -> None:
    log, err = make({})
    log.add_secrets(["pw", "longer-pw"])
    log.info("a longer-pw and pw\nsecond line")
    assert "pw" not in err.getvalue().replace("******", "")
    assert err.getvalue().count("\n") == 1
