"""The declarative agent: parameters and actions as data, actions as methods.

An agent file subclasses :class:`Agent`, declares ``params`` and ``actions``,
and writes one method per action (``validate-all`` becomes
``validate_all``).  A method returns an :class:`ExitCode` (or None for
success) or raises an :class:`OCFError`; the runner does the rest.
"""
from __future__ import annotations

from .metadata import render

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar, List, Mapping, Optional, Sequence

    from .budget import Budget
    from .log import Log
    from .metadata import ActionSpec
    from .params import Param, ParamError, Params
    from .system import CommandResult, System


class Context:
    """Everything one action knows, read once from the environment."""

    __slots__ = ("action", "instance", "params", "probe", "check_level", "budget", "log",
                 "system", "environ")

    def __init__(self, action: str, instance: str, params: Params, probe: bool,
                 check_level: int, budget: Budget, log: Log, system: System,
                 environ: Mapping[str, str]) -> None:
        self.action = action
        self.instance = instance
        self.params = params
        self.probe = probe              # a monitor with no (or a zero) interval
        self.check_level = check_level  # OCF_CHECK_LEVEL, 0 if unset or garbage
        self.budget = budget
        self.log = log
        self.system = system
        self.environ = environ

    def run(self, argv: Sequence[str], timeout: Optional[float] = None,
            detach: bool = False, input_text: Optional[str] = None) -> CommandResult:
        """Run a command within the budget; log it with secrets masked."""
        limit = self.budget.cap(timeout if timeout is not None else self.budget.remaining())
        self.log.debug("run: " + " ".join(argv))
        result = self.system.run(argv, limit, detach=detach, input_text=input_text)
        if result.timed_out:
            self.log.warning(f"{argv[0]} timed out after {limit:.1f}s")
        else:
            self.log.debug(f"{argv[0]} rc={result.rc} {result.stderr.strip()[:500]}")
        return result


class Agent:
    """Base class of every agent.  Subclasses are declarations plus actions."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1.0"
    shortdesc: ClassVar[str] = ""
    longdesc: ClassVar[str] = ""
    params: ClassVar[Sequence[Param]] = ()
    actions: ClassVar[Sequence[ActionSpec]] = ()
    # The parameters that find a running instance (binary, config, pid file).
    # While these are valid, stop and probes still look for the service even
    # if other parameters are not, with the bad ones at their defaults.
    identity: ClassVar[Sequence[str]] = ()

    @classmethod
    def metadata(cls) -> str:
        return render(cls.name, cls.version, cls.shortdesc, cls.longdesc, cls.params, cls.actions)

    @classmethod
    def action_names(cls) -> List[str]:
        names: List[str] = []
        for a in cls.actions:
            if a.name not in names:
                names.append(a.name)
        return names

    @classmethod
    def usage(cls) -> str:
        names = [n for n in cls.action_names()] + ["usage"]
        return f"usage: {cls.name} {{{'|'.join(names)}}}\n"

    @classmethod
    def default_timeout(cls, action: str) -> float:
        for a in cls.actions:
            if a.name == action:
                return float(a.timeout)
        return 20.0

    @classmethod
    def check(cls, params: Params) -> List[ParamError]:
        """Pure checks across parameters, beyond each one's own type and checks."""
        return []
