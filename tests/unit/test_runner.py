"""Every exit path of the runner, with a small agent defined here."""
import io
from typing import Dict, List, Optional, Tuple

import pytest

from fakehost import FakeHost
from mirantis_ocf.agent import Agent, Context
from mirantis_ocf.codes import ExitCode
from mirantis_ocf.errors import (ArgsError, ConfigurationError, GenericError, NotInstalledError,
                                 NotRunningError)
from mirantis_ocf.metadata import ActionSpec
from mirantis_ocf.params import Param, Type
from mirantis_ocf.runner import run

SECRET = "s3cr3t-Pa55"
SEEN: List[Context] = []


class Probe(Agent):
    """Each action does what its `behaviour` parameter says."""

    name = "probe"
    shortdesc = "test agent"
    longdesc = "An agent for the runner's tests."
    params = (
        Param("behaviour", "what to do", default="ok"),
        Param("count", "an integer", type=Type.INTEGER, default=3),
        Param("flag", "a boolean", type=Type.BOOLEAN, default=False),
        Param("password", "a secret", secret=True),
    )
    actions = (ActionSpec("start", 40), ActionSpec("stop", 20),
               ActionSpec("monitor", 20, interval=10), ActionSpec("validate-all", 20),
               ActionSpec("meta-data", 5))

    def _act(self, ctx: Context) -> Optional[ExitCode]:
        SEEN.append(ctx)
        behaviour = ctx.params.behaviour
        errors = {"generic": GenericError, "args": ArgsError, "configured": ConfigurationError,
                  "installed": NotInstalledError, "notrunning": NotRunningError}
        if behaviour in errors:
            raise errors[behaviour](f"{behaviour} happened, password {ctx.params.password}")
        if behaviour == "crash":
            raise ValueError(f"boom with {ctx.params.password}")
        if behaviour == "seven":
            return ExitCode.NOT_RUNNING
        ctx.log.info(f"acting with password {ctx.params.password}")
        return None

    start = stop = monitor = validate_all = _act


def call(action: Optional[str], env: Optional[Dict[str, str]] = None,
         **params: str) -> Tuple[ExitCode, str, str]:
    environ = dict(env or {})
    environ.update({"OCF_RESKEY_" + k: v for k, v in params.items()})
    out, err = io.StringIO(), io.StringIO()
    argv = ["probe"] + ([action] if action is not None else [])
    code = run(Probe, argv, environ, system=FakeHost(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def reason(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("ocf-exit-reason:")]
    return lines[-1][len("ocf-exit-reason:"):] if lines else ""


def test_no_action_is_an_argument_error_with_usage() -> None:
    code, out, err = call(None)
    assert code == ExitCode.ERR_ARGS and "usage: probe" in err and out == ""


@pytest.mark.parametrize("action", ["meta-data", "usage", "help"])
def test_meta_data_and_usage_need_no_environment(action: str) -> None:
    code, out, err = call(action)
    assert code == ExitCode.SUCCESS and out and err == ""


def test_unknown_action_exits_3_with_reason() -> None:
    code, out, err = call("frobnicate")
    assert code == ExitCode.ERR_UNIMPLEMENTED and "frobnicate" in reason(err)


def test_extra_arguments_are_ignored() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run(Probe, ["probe", "start", "extra", "args"], {}, system=FakeHost(), stdout=out,
               stderr=err)
    assert code == ExitCode.SUCCESS


def test_success_is_zero_and_stdout_stays_clean() -> None:
    code, out, err = call("start")
    assert code == ExitCode.SUCCESS and out == ""


@pytest.mark.parametrize("interval,probe", [(None, True), ("0", True), ("", True), ("10000", False)])
def test_probe_is_a_monitor_with_zero_or_unset_interval(interval: Optional[str], probe: bool) -> None:
    env = {} if interval is None else {"OCF_RESKEY_CRM_meta_interval": interval}
    SEEN.clear()
    call("monitor", env)
    assert SEEN[-1].probe is probe


def test_start_is_never_a_probe() -> None:
    SEEN.clear()
    call("start")
    assert SEEN[-1].probe is False


@pytest.mark.parametrize("level,expected", [(None, 0), ("10", 10), ("20", 20), ("junk", 0)])
def test_check_level_is_read(level: Optional[str], expected: int) -> None:
    SEEN.clear()
    call("monitor", {} if level is None else {"OCF_CHECK_LEVEL": level})
    assert SEEN[-1].check_level == expected


def test_budget_comes_from_meta_timeout() -> None:
    SEEN.clear()
    call("start", {"OCF_RESKEY_CRM_meta_timeout": "90000"})
    assert SEEN[-1].budget.total == 90.0
    assert 80.0 <= SEEN[-1].budget.remaining() < 90.0


def test_budget_defaults_to_the_advertised_timeout() -> None:
    SEEN.clear()
    call("start")
    assert SEEN[-1].budget.total == 40.0


def test_parameters_arrive_typed() -> None:
    SEEN.clear()
    call("start", count="42", flag="yes")
    assert SEEN[-1].params.count == 42 and SEEN[-1].params.flag is True


@pytest.mark.parametrize("action,env,expected", [
    ("stop", {}, ExitCode.SUCCESS),
    ("monitor", {}, ExitCode.NOT_RUNNING),
    ("monitor", {"OCF_RESKEY_CRM_meta_interval": "10000"}, ExitCode.ERR_CONFIGURED),
    ("start", {}, ExitCode.ERR_CONFIGURED),
    ("validate-all", {}, ExitCode.ERR_CONFIGURED),
])
def test_invalid_environment(action: str, env: Dict[str, str], expected: ExitCode) -> None:
    SEEN.clear()
    code, _, err = call(action, env, count="many", flag="maybe")
    assert code == expected
    assert SEEN == []   # the action never ran on bad parameters
    if expected == ExitCode.ERR_CONFIGURED:
        assert "count" in reason(err) and "flag" in reason(err)   # every bad one, by name


@pytest.mark.parametrize("behaviour,code", [
    ("generic", ExitCode.ERR_GENERIC), ("args", ExitCode.ERR_ARGS),
    ("configured", ExitCode.ERR_CONFIGURED), ("installed", ExitCode.ERR_INSTALLED),
])
def test_errors_carry_code_and_reason(behaviour: str, code: ExitCode) -> None:
    got, _, err = call("start", behaviour=behaviour)
    assert got == code and reason(err).startswith(f"{behaviour} happened")


@pytest.mark.parametrize("behaviour", ["args", "configured", "installed", "seven"])
def test_stop_never_fails_because_of_configuration(behaviour: str) -> None:
    code, _, err = call("stop", behaviour=behaviour)
    assert code == ExitCode.SUCCESS and reason(err) == ""


def test_stop_reports_a_real_failure() -> None:
    code, _, err = call("stop", behaviour="generic")
    assert code == ExitCode.ERR_GENERIC and reason(err)


def test_probe_of_absent_software_is_not_running() -> None:
    code, _, _ = call("monitor", behaviour="installed")
    assert code == ExitCode.NOT_RUNNING


def test_recurring_monitor_of_absent_software_is_an_error() -> None:
    code, _, _ = call("monitor", {"OCF_RESKEY_CRM_meta_interval": "10000"}, behaviour="installed")
    assert code == ExitCode.ERR_INSTALLED


def test_not_running_has_no_exit_reason_noise() -> None:
    code, _, err = call("monitor", behaviour="notrunning")
    assert code == ExitCode.NOT_RUNNING and reason(err) == ""


def test_unexpected_exception_is_1_with_reason_and_no_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    logfile = tmp_path / "ha.log"
    code, out, err = call("start", {"HA_LOGFILE": str(logfile)}, behaviour="crash")
    assert code == ExitCode.ERR_GENERIC
    assert "ValueError" in reason(err)
    assert "Traceback" not in err and "Traceback" not in out
    assert "Traceback" in logfile.read_text()


def test_exit_reason_is_one_short_line() -> None:
    code, _, err = call("start", behaviour="generic", password="x" * 300)
    assert len(reason(err)) <= 128


def test_secrets_never_reach_logs_or_exit_reasons(tmp_path) -> None:  # type: ignore[no-untyped-def]
    logfile, debuglog = tmp_path / "ha.log", tmp_path / "debug.log"
    env = {"HA_LOGFILE": str(logfile), "HA_DEBUGLOG": str(debuglog), "HA_debug": "1"}
    outputs = []
    for behaviour in ("ok", "generic", "crash", "configured"):
        code, out, err = call("start", env, behaviour=behaviour, password=SECRET)
        outputs += [out, err]
    outputs += [logfile.read_text(), debuglog.read_text()]
    assert "acting with password ******" in logfile.read_text()
    for text in outputs:
        assert SECRET not in text


def test_a_bad_secret_is_not_echoed() -> None:
    class Typed(Probe):
        params = (Param("pin", "secret number", type=Type.INTEGER, secret=True),)
    out, err = io.StringIO(), io.StringIO()
    code = run(Typed, ["probe", "start"], {"OCF_RESKEY_pin": SECRET}, system=FakeHost(),
               stdout=out, stderr=err)
    assert code == ExitCode.ERR_CONFIGURED and "pin" in reason(err.getvalue())
    assert SECRET not in err.getvalue()


class Findable(Probe):
    identity = ("behaviour",)


def call_findable(action: str, env: Dict[str, str], **params: str) -> ExitCode:
    environ = dict(env)
    environ.update({"OCF_RESKEY_" + k: v for k, v in params.items()})
    return run(Findable, ["probe", action], environ, system=FakeHost(), stdout=io.StringIO(),
               stderr=io.StringIO())


def test_stop_and_probe_still_look_when_identity_is_valid() -> None:
    SEEN.clear()
    assert call_findable("stop", {}, count="many") == ExitCode.SUCCESS
    assert call_findable("monitor", {}, count="many") == ExitCode.SUCCESS
    assert len(SEEN) == 2 and SEEN[-1].params.count == 3     # the bad one at its default
    assert call_findable("monitor", {}, count="many", behaviour="seven") == ExitCode.NOT_RUNNING


def test_stop_and_probe_do_not_look_when_identity_is_invalid() -> None:
    class BadIdentity(Probe):
        identity = ("count",)
    SEEN.clear()
    for action, expected in (("stop", ExitCode.SUCCESS), ("monitor", ExitCode.NOT_RUNNING)):
        code = run(BadIdentity, ["probe", action], {"OCF_RESKEY_count": "many"},
                   system=FakeHost(), stdout=io.StringIO(), stderr=io.StringIO())
        assert code == expected
    assert SEEN == []


def test_other_actions_refuse_invalid_parameters_even_with_identity() -> None:
    assert call_findable("start", {}, count="many") == ExitCode.ERR_CONFIGURED
    assert call_findable("monitor", {"OCF_RESKEY_CRM_meta_interval": "10000"},
                         count="many") == ExitCode.ERR_CONFIGURED


def test_traceback_without_any_log_destination_stays_off_stderr() -> None:
    code, out, err = call("start", behaviour="crash")
    assert code == ExitCode.ERR_GENERIC and "Traceback" not in err and "ValueError" in reason(err)


def test_traceback_is_shown_when_the_operator_traces() -> None:
    code, _, err = call("start", {"OCF_TRACE_RA": "1"}, behaviour="crash", password=SECRET)
    assert code == ExitCode.ERR_GENERIC and "Traceback" in err and SECRET not in err
