"""The runner: the one place that turns an action into an exit code.

Rules (OCF 1.1, and how Pacemaker and ocf-tester really behave):

- the action is ``argv[1]``; other arguments are ignored;
- ``meta-data`` and ``usage`` need no environment, no root, no binaries;
- an unknown action exits 3;
- a probe is a ``monitor`` whose ``OCF_RESKEY_CRM_meta_interval`` is 0 or unset;
- with invalid parameters, any action but ``stop`` and a probe returns 6
  with the reason.  ``stop`` and a probe still look for the service when
  the agent's ``identity`` parameters are valid (the bad ones take their
  defaults); otherwise ``stop`` returns 0 and a probe 7, since nothing can
  be running from parameters that start would have refused;
- a probe never reports software that is absent as an error (5 -> 7), and a
  stop never fails because of configuration (2, 5, 6 -> 0), nor returns 7;
- an unexpected exception exits 1 with a one-line reason; its traceback goes
  to the log files, never to the user.

:func:`run` never exits; :func:`main` does, once.

The agent files start with ``#!/usr/bin/python3 -S``: Python without
``site``, whose .pth files (on a controller, OpenStack's namespace packages)
took 16 ms of a 23.5 ms interpreter start here, on every monitor.  The
library and the agents are stdlib-only; pymysql, the one other import,
finds its directory through :func:`mirantis_ocf.sys_sql.add_site_packages`.
"""
from __future__ import annotations

import os
import sys



TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Mapping, Optional, Sequence, Type

    from .agent import Agent
    from .codes import ExitCode
    from .log import Log
    from .system import System

EXIT_REASON_PREFIX = "ocf-exit-reason:"
REASON_MAX = 128  # Pacemaker 2.1 keeps only this much

# stop never fails because of configuration: ERR_ARGS, ERR_INSTALLED, ERR_CONFIGURED, NOT_RUNNING
_STOP_FORGIVES = (2, 5, 6, 7)


def exit_reason(stderr: IO[str], log: Optional[Log], reason: str) -> None:
    text = " ".join(reason.split())
    if log is not None:
        text = log.redact(text)
    if len(text) > REASON_MAX:
        text = text[: REASON_MAX - 3] + "..."
    stderr.write(f"{EXIT_REASON_PREFIX}{text}\n")
    stderr.flush()


def _int(value: Optional[str], default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def run(agent_cls: Type[Agent], argv: Sequence[str], environ: Mapping[str, str],
        system: Optional[System] = None, stdout: Optional[IO[str]] = None,
        stderr: Optional[IO[str]] = None) -> ExitCode:
    """Run one action and return its exit code.  Never raises, never exits."""
    from .codes import ExitCode

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if len(argv) < 2 or not argv[1]:
        err.write(agent_cls.usage())
        return ExitCode.ERR_ARGS
    action = argv[1]
    if action == "meta-data":
        out.write(agent_cls.metadata())
        return ExitCode.SUCCESS
    if action in ("usage", "help"):
        out.write(agent_cls.usage())
        return ExitCode.SUCCESS
    if action not in agent_cls.action_names():
        err.write(agent_cls.usage())
        exit_reason(err, None, f"action {action[:40]!r} is not implemented")
        return ExitCode.ERR_UNIMPLEMENTED

    from .agent import Context
    from .budget import Budget, timeout_from_env
    from .errors import OCFError
    from .log import Log
    from .params import parse
    from .system import System

    system = system if system is not None else System()
    instance = environ.get("OCF_RESOURCE_INSTANCE") or agent_cls.name
    log = Log(agent_cls.name, instance, environ, err)
    probe = action == "monitor" and _int(environ.get("OCF_RESKEY_CRM_meta_interval")) == 0
    total = timeout_from_env(environ.get("OCF_RESKEY_CRM_meta_timeout", ""),
                             agent_cls.default_timeout(action))
    params, errors = parse(agent_cls.params, environ)
    log.add_secrets(params.secrets)
    if not errors:
        errors = agent_cls.check(params)
    ctx = Context(action=action, instance=instance, params=params, probe=probe,
                  check_level=_int(environ.get("OCF_CHECK_LEVEL")),
                  budget=Budget(total, system.monotonic), log=log, system=system,
                  environ=environ)
    verb = "probe" if probe else action

    if errors:
        reason = "invalid parameter " + "; ".join(str(e) for e in errors)
        bad = {e.name for e in errors}
        findable = bool(agent_cls.identity) and not bad & set(agent_cls.identity)
        if (action == "stop" or probe) and findable:
            # A service started under older, laxer rules must still be found.
            log.warning(f"{reason}: {verb} goes on with the defaults of the bad ones")
        elif action == "stop":
            log.warning(f"{reason}: stop succeeds, nothing can have been started with it")
            return ExitCode.SUCCESS
        elif probe:
            log.warning(f"{reason}: probe reports not running")
            return ExitCode.NOT_RUNNING
        else:
            log.error(reason)
            exit_reason(err, log, reason)
            return ExitCode.ERR_CONFIGURED

    method = getattr(agent_cls(), action.replace("-", "_"))
    try:
        result = method(ctx)
        code = ExitCode.SUCCESS if result is None else ExitCode(result)
        reason = ""
    except OCFError as exc:
        code, reason = exc.code, exc.reason
    except Exception as exc:  # the last line of defence: no traceback to the user
        import traceback
        log.traceback(traceback.format_exc())
        code, reason = ExitCode.ERR_GENERIC, f"internal error in {verb}: {type(exc).__name__}: {exc}"

    if action == "stop" and code in _STOP_FORGIVES:
        if code != ExitCode.NOT_RUNNING:
            log.warning(f"stop: {reason}; nothing to stop")
        return ExitCode.SUCCESS
    if probe and code == ExitCode.ERR_INSTALLED:
        log.info(f"probe: {reason}; reporting not running")
        return ExitCode.NOT_RUNNING
    if code not in (ExitCode.SUCCESS, ExitCode.NOT_RUNNING, ExitCode.RUNNING_PROMOTED):
        log.error(f"{verb} failed: {reason}" if reason else f"{verb} failed with {code.name}")
        if reason:
            exit_reason(err, log, reason)
    elif reason:
        log.info(f"{verb}: {reason}")
    return code


def cached_metadata_path(agent_file: str) -> str:
    """Where ``make install`` puts an agent's rendered meta-data.

    Agents live in $OCF_ROOT/resource.d/mirantis/, the cache in
    $OCF_ROOT/lib/mirantis/metadata/.  The agent's own (unresolved) name
    is used, so that an alias installed as a symlink has its own.
    """
    here = os.path.dirname(os.path.abspath(agent_file))
    return os.path.join(here, "..", "..", "lib", "mirantis", "metadata",
                        os.path.basename(agent_file) + ".xml")


def serve_cached_metadata(agent_file: str, source: str = "") -> None:
    """Answer ``meta-data`` from the install-time rendering, before any heavy import.

    Meta-data is static: ``make install`` renders it once with ElementTree.
    Serving that file keeps ``meta-data`` at the cost of the interpreter's
    start.  A cache older than the agent file (edited in place) is ignored,
    and the meta-data is rendered afresh by :func:`run`; so is one older
    than ``source``, the agent file that an installed launcher runs.
    """
    if sys.argv[1:2] != ["meta-data"]:
        return
    cache = cached_metadata_path(agent_file)
    try:
        newest = max(os.stat(path).st_mtime_ns for path in
                     (os.path.realpath(agent_file), source) if path)
        if os.stat(cache).st_mtime_ns < newest:
            return
        with open(cache, "rb") as f:
            data = f.read()
    except OSError:
        return
    if data.startswith(b"<?xml"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        sys.exit(0)


def launch(source: str, agent_file: str) -> None:
    """Run an agent file from its cached bytecode (compiled once, kept in
    __pycache__ beside it when the directory is writable), as the script
    ``agent_file``: the installed launchers' way (tools/ocf-launcher.in)."""
    # the import system's own module, loaded at every start (importlib.machinery
    # re-exports its SourceFileLoader, for 0.5 ms more)
    external = sys.modules.get("_frozen_importlib_external")
    if external is None:                                     # pragma: no cover
        import importlib.machinery
        external = importlib.machinery
    code = external.SourceFileLoader("__main__", source).get_code("__main__")
    exec(code, {"__name__": "__main__", "__file__": agent_file, "__doc__": None})


def main(agent_cls: Type[Agent]) -> None:
    """The entry point of every agent file, and the only ``sys.exit``."""
    sys.exit(int(run(agent_cls, sys.argv, os.environ)))
