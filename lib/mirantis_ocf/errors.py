"""One exception class per OCF error.

Raise them anywhere; only the runner turns them into an exit code and an
``ocf-exit-reason:`` line.  The message *is* the exit reason, so it must be
short, one line, and free of secrets.
"""
from __future__ import annotations


from .codes import ExitCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar


class OCFError(Exception):
    """Base class: an action ends with ``code`` and ``reason``."""

    code: ClassVar[ExitCode] = ExitCode.ERR_GENERIC

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GenericError(OCFError):
    code = ExitCode.ERR_GENERIC


class ArgsError(OCFError):
    """A parameter is invalid in this host's context (e.g. a file missing here)."""

    code = ExitCode.ERR_ARGS


class UnimplementedError(OCFError):
    code = ExitCode.ERR_UNIMPLEMENTED


class PermissionDeniedError(OCFError):
    code = ExitCode.ERR_PERM


class NotInstalledError(OCFError):
    """Required software is not available on this host."""

    code = ExitCode.ERR_INSTALLED


class ConfigurationError(OCFError):
    """The configuration is inherently wrong; retrying elsewhere will not help."""

    code = ExitCode.ERR_CONFIGURED


class NotRunningError(OCFError):
    """monitor: the resource is cleanly stopped."""

    code = ExitCode.NOT_RUNNING


class FailedPromotedError(OCFError):
    code = ExitCode.FAILED_PROMOTED


BY_CODE = {
    cls.code: cls
    for cls in (GenericError, ArgsError, UnimplementedError, PermissionDeniedError,
                NotInstalledError, ConfigurationError, NotRunningError, FailedPromotedError)
}
