"""OCF exit codes (OCF 1.1 names, plus the legacy ``*_MASTER`` aliases)."""
from enum import IntEnum, unique


@unique
class ExitCode(IntEnum):
    """What an action returns to the resource manager.

    190 and 191 are only meaningful from ``monitor`` (OCF 1.1 "degraded").
    """

    SUCCESS = 0
    ERR_GENERIC = 1
    ERR_ARGS = 2
    ERR_UNIMPLEMENTED = 3
    ERR_PERM = 4
    ERR_INSTALLED = 5
    ERR_CONFIGURED = 6
    NOT_RUNNING = 7
    RUNNING_PROMOTED = 8
    FAILED_PROMOTED = 9
    DEGRADED = 190
    DEGRADED_PROMOTED = 191


# Legacy names used by ocf-shellfuncs and older agents.  Aliases cannot live
# inside a @unique enum, so they are plain module constants.
RUNNING_MASTER = ExitCode.RUNNING_PROMOTED
FAILED_MASTER = ExitCode.FAILED_PROMOTED
DEGRADED_MASTER = ExitCode.DEGRADED_PROMOTED
