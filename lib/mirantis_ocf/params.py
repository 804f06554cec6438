"""Typed parameter declarations and the pure validator.

Parameters arrive as ``OCF_RESKEY_<name>`` environment variables.  They are
parsed once, at the edge, into an immutable :class:`Params`; an ``integer``
reaches the action as an ``int`` and a ``boolean`` as a ``bool``.  The
validator is a pure function that reports *every* bad parameter by name.
"""
from __future__ import annotations

from enum import Enum

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; agents run every few seconds
    from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union
    Value = Union[str, int, bool]
    # A check takes the parsed value and returns an error message or None.
    Check = Callable[[Any], Optional[str]]

TRUE_WORDS = frozenset({"1", "yes", "true", "on", "y"})
FALSE_WORDS = frozenset({"0", "no", "false", "off", "n"})


class Type(Enum):
    """The parameter types that ``ra-api-1.dtd`` and OCF 1.1 both accept."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"


class Param:
    """One declared parameter; meta-data and parsing both come from this."""

    __slots__ = ("name", "shortdesc", "longdesc", "type", "default", "required", "unique",
                 "secret", "deprecated", "checks")

    def __init__(self, name: str, shortdesc: str, longdesc: str = "", type: Type = Type.STRING,
                 default: Optional[Value] = None, required: bool = False, unique: bool = False,
                 secret: bool = False, deprecated: str = "", checks: Tuple[Check, ...] = ()) -> None:
        self.name = name
        self.shortdesc = shortdesc
        self.longdesc = longdesc
        self.type = type
        self.default = default
        self.required = required
        self.unique = unique
        self.secret = secret            # never logged, never in an exit reason
        self.deprecated = deprecated    # why, if kept only for compatibility
        self.checks = checks

    def __repr__(self) -> str:
        return f"Param({self.name!r})"

    def with_default(self, default: Optional[Value]) -> Param:
        """The same parameter with another default (an agent's other flavour)."""
        return Param(self.name, self.shortdesc, self.longdesc, self.type, default, self.required,
                     self.unique, self.secret, self.deprecated, self.checks)

    def default_text(self) -> Optional[str]:
        """The default as meta-data shows it."""
        if self.default is None:
            return None
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)


class ParamError:
    """A bad parameter, by name; the message never repeats a secret value."""

    __slots__ = ("name", "message")

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamError) and (self.name, self.message) == (other.name, other.message)

    def __hash__(self) -> int:
        return hash((self.name, self.message))

    def __repr__(self) -> str:
        return f"ParamError({self.name!r}, {self.message!r})"

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


def parse_bool(text: str) -> Optional[bool]:
    """``yes/no/true/false/1/0/on/off``, any case; None if it is none of them."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _convert(param: Param, raw: str) -> Tuple[Optional[Value], Optional[str]]:
    shown = "(hidden)" if param.secret else repr(raw[:40])
    if param.type is Type.INTEGER:
        try:
            return int(raw.strip(), 10), None
        except ValueError:
            return None, f"expected an integer, got {shown}"
    if param.type is Type.BOOLEAN:
        value = parse_bool(raw)
        if value is None:
            return None, f"expected a boolean (yes/no, true/false, 1/0), got {shown}"
        return value, None
    return raw, None


class Params:
    """The immutable, typed parameters of one action.

    Read them as attributes (``params.conffile``) or by key.  ``secrets``
    lists the values that must never reach a log or an exit reason.
    """

    __slots__ = ("_values", "_secrets", "_given")
    _values: Dict[str, Value]
    _secrets: Tuple[str, ...]
    _given: frozenset[str]

    def __init__(self, values: Dict[str, Value], secrets: Sequence[str] = (),
                 given: Sequence[str] = ()) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_secrets", tuple(s for s in secrets if s))
        object.__setattr__(self, "_given", frozenset(given))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params are immutable")

    def __getitem__(self, key: str) -> Value:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def get(self, key: str, default: Optional[Value] = None) -> Optional[Value]:
        return self._values.get(key, default)

    @property
    def secrets(self) -> Tuple[str, ...]:
        return self._secrets

    def given(self, name: str) -> bool:
        """True if the operator set this parameter (rather than its default)."""
        return name in self._given

    def __repr__(self) -> str:
        return "Params(%s)" % ", ".join(f"{k}=..." for k in self._values)


def parse(decls: Sequence[Param], environ: Mapping[str, str]) -> Tuple[Params, List[ParamError]]:
    """Parse ``OCF_RESKEY_*`` into typed values; return them with every error found.

    An empty value means "use the default", as in ocf-shellfuncs.  A
    parameter with errors keeps its default in the returned object, so that
    ``stop`` can still do its best with the rest.
    """
    values: Dict[str, Value] = {}
    errors: List[ParamError] = []
    secrets: List[str] = []
    given: List[str] = []
    zero: Dict[Type, Value] = {Type.STRING: "", Type.INTEGER: 0, Type.BOOLEAN: False}
    for param in decls:
        raw = environ.get("OCF_RESKEY_" + param.name, "")
        value: Optional[Value] = param.default
        if raw == "":
            if param.required:
                errors.append(ParamError(param.name, "is required"))
        else:
            given.append(param.name)
            if param.secret:
                secrets.append(raw)
            converted, problem = _convert(param, raw)
            if problem is None:
                problem = next((p for p in (check(converted) for check in param.checks) if p), None)
            if problem:
                errors.append(ParamError(param.name, problem))
            else:
                value = converted
        values[param.name] = value if value is not None else zero[param.type]
    return Params(values, secrets, given), errors


# --- reusable checks (pure) -------------------------------------------------

def absolute_path(value: Any) -> Optional[str]:
    """A path parameter must be absolute: agents run with cwd=/ under Pacemaker."""
    if not str(value).startswith("/"):
        return "must be an absolute path"
    if "\0" in str(value) or "\n" in str(value):
        return "must not contain NUL or newline characters"
    return None


def at_least(minimum: int) -> Check:
    def check(value: Any) -> Optional[str]:
        return None if int(value) >= minimum else f"must be at least {minimum}"
    return check


def one_of(*choices: str) -> Check:
    def check(value: Any) -> Optional[str]:
        return None if str(value) in choices else f"must be one of {', '.join(choices)}"
    return check


def port_number(value: Any) -> Optional[str]:
    text = str(value)
    ok = text.isdigit() and len(text) <= 5 and 0 < int(text) < 65536
    return None if ok else "must be a TCP port (1-65535)"


def one_line(value: Any) -> Optional[str]:
    return "must be a single line" if "\n" in str(value) or "\r" in str(value) else None


def split_args(text: str) -> Tuple[List[str], Optional[str]]:
    """Split an "extra arguments" parameter like a shell would, without a shell.

    Nothing is expanded: ``$(touch /tmp/x)`` stays a literal word.
    """
    if not any(c in text for c in "'\"\\"):
        return text.split(), None   # what shlex gives, without importing it (and re)
    import shlex
    try:
        return shlex.split(text, comments=False, posix=True), None
    except ValueError as exc:
        return [], f"cannot be split into arguments ({exc})"


def shell_words(value: Any) -> Optional[str]:
    return split_args(str(value))[1]


__all__ = ["Type", "Param", "ParamError", "Params", "parse", "parse_bool", "absolute_path",
           "at_least", "one_of", "port_number", "one_line", "split_args", "shell_words"]
