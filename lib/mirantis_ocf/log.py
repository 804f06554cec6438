"""Logging the way operators grep for it.

Lines are tagged ``agent(instance)[pid]: LEVEL: message``, as resource-agents
does.  Destinations follow the HA_* variables that pacemaker-execd exports:

- ``HA_LOGFACILITY`` (or ``HA_logfacility``): syslog, unless ``none``;
- ``HA_LOGFILE``: appended to;
- ``HA_DEBUGLOG``: debug lines (and everything else) appended to; without
  it, debug lines (when on) go to ``HA_LOGFILE``;
- ``HA_debug``: read as a string; ``0``/``no``/empty mean off;
- ``OCF_TRACE_RA``: debug on, to stderr.

With no syslog and no log file, messages go to stderr (Pacemaker logs an
agent's stderr).  Warnings and errors always go to stderr.  Stdout is never
used: it carries only the protocol.  Known secret values are masked in every
line.  Nothing is opened at import; the runner builds one :class:`Log`.
"""
from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Mapping, Optional, Sequence

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARNING", ERROR: "ERROR"}
_FACILITIES = ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
               "cron", "authpriv", "ftp") + tuple(f"local{i}" for i in range(8))
MASK = "******"


def _flag(value: Optional[str]) -> bool:
    return (value or "").strip().lower() not in ("", "0", "no", "false", "off")


class Log:
    """A small logger bound to one agent invocation."""

    def __init__(self, agent: str, instance: str, environ: Mapping[str, str],
                 stderr: Optional[IO[str]] = None) -> None:
        self.tag = f"{agent}({instance})[{os.getpid()}]"
        self.stderr = stderr if stderr is not None else sys.stderr
        facility = environ.get("HA_LOGFACILITY") or environ.get("HA_logfacility") or ""
        self.facility = facility if facility.lower() in _FACILITIES else ""
        self.logfile = environ.get("HA_LOGFILE", "") or ""
        self.debuglog = environ.get("HA_DEBUGLOG", "") or ""
        self.trace = _flag(environ.get("OCF_TRACE_RA"))
        self.debug_on = self.trace or _flag(environ.get("HA_debug")) or bool(self.debuglog)
        self._secrets: Sequence[str] = ()
        self._syslog_open = False

    def add_secrets(self, secrets: Sequence[str]) -> None:
        """Mask these values from now on (longest first, so prefixes don't leak)."""
        merged = set(self._secrets) | {s for s in secrets if s}
        self._secrets = sorted(merged, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def debug(self, msg: str) -> None:
        self._emit(DEBUG, msg)

    def info(self, msg: str) -> None:
        self._emit(INFO, msg)

    def warning(self, msg: str) -> None:
        self._emit(WARNING, msg)

    def error(self, msg: str) -> None:
        self._emit(ERROR, msg)

    def traceback(self, text: str) -> None:
        """An internal error's traceback: for the logs, never for the user's stderr.

        Without a log file or facility it goes to syslog (daemon), so that it
        is not lost; with ``OCF_TRACE_RA`` the operator sees it on stderr too.
        """
        facility = self.facility or ("" if self.logfile or self.debuglog else "daemon")
        for line in text.rstrip().splitlines():
            self._emit(ERROR, line, to_stderr=self.trace, facility=facility)

    def _emit(self, level: int, msg: str, to_stderr: Optional[bool] = None,
              facility: Optional[str] = None) -> None:
        if level == DEBUG and not self.debug_on:
            return
        text = self.redact(msg).replace("\n", " | ")
        line = f"{self.tag}: {_NAMES[level]}: {text}"
        facility = self.facility if facility is None else facility
        if to_stderr is None:
            to_stderr = level >= WARNING or self.trace or not (facility or self.logfile)
        if to_stderr:
            self._write(self.stderr, line)
        if facility and level >= (DEBUG if self.debug_on else INFO):
            self._syslog(facility, level, f"{_NAMES[level]}: {text}")
        stamp = time.strftime("%b %d %H:%M:%S")
        # debug lines go to HA_DEBUGLOG when it is set, else to HA_LOGFILE
        if self.logfile and (level >= INFO or (self.debug_on and not self.debuglog)):
            self._append(self.logfile, f"{stamp} {line}")
        if self.debuglog:
            self._append(self.debuglog, f"{stamp} {line}")

    @staticmethod
    def _write(stream: IO[str], line: str) -> None:
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    @staticmethod
    def _append(path: str, line: str) -> None:
        # A log file we cannot write must never fail an action.
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError:
            pass

    def _syslog(self, facility_name: str, level: int, line: str) -> None:
        import syslog
        if not self._syslog_open:
            facility = getattr(syslog, "LOG_" + facility_name.upper(), syslog.LOG_DAEMON)
            # ident + LOG_PID gives "agent(instance)[pid]: LEVEL: msg", the
            # resource-agents format, with the program name that filters use
            syslog.openlog(ident=self.tag.rsplit("[", 1)[0], logoption=syslog.LOG_PID,
                           facility=facility)
            self._syslog_open = True
        priority = {DEBUG: syslog.LOG_DEBUG, INFO: syslog.LOG_INFO,
                    WARNING: syslog.LOG_WARNING, ERROR: syslog.LOG_ERR}[level]
        try:
            syslog.syslog(priority, line)
        except OSError:
            pass
