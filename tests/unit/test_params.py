"""Typed parameters and the pure validator."""
import pytest

from mirantis_ocf.params import Param, Type, absolute_path, at_least, parse, parse_bool, split_args

DECLS = (
    Param("path", "a path", default="/etc/x.cfg", checks=(absolute_path,)),
    Param("port", "a port", type=Type.INTEGER, default=3306, checks=(at_least(1),)),
    Param("enabled", "a switch", type=Type.BOOLEAN, default=True),
    Param("name", "required", required=True),
    Param("token", "secret", secret=True),
)


def env(**kv: str) -> dict:
    return {"OCF_RESKEY_" + k: v for k, v in kv.items()}


def test_defaults_apply_when_unset_or_empty() -> None:
    params, errors = parse(DECLS, env(name="n", path=""))
    assert errors == []
    assert params.path == "/etc/x.cfg" and params.port == 3306 and params.enabled is True
    assert not params.given("path") and params.given("name")


def test_values_are_converted() -> None:
    params, errors = parse(DECLS, env(name="n", port=" 42 ", enabled="No"))
    assert errors == [] and params.port == 42 and params.enabled is False


@pytest.mark.parametrize("word,value", [("yes", True), ("TRUE", True), ("1", True), ("on", True),
                                        ("no", False), ("False", False), ("0", False),
                                        ("off", False), ("maybe", None), ("", None)])
def test_booleans(word: str, value: object) -> None:
    assert parse_bool(word) is value


def test_every_error_is_reported_by_name_at_once() -> None:
    _, errors = parse(DECLS, env(path="relative", port="x", enabled="maybe"))
    assert sorted(e.name for e in errors) == ["enabled", "name", "path", "port"]
    assert all(str(e).startswith(e.name + ":") for e in errors)


def test_checks_run_on_converted_values() -> None:
    _, errors = parse(DECLS, env(name="n", port="0"))
    assert [(e.name, e.message) for e in errors] == [("port", "must be at least 1")]


def test_secret_values_are_collected_and_never_echoed() -> None:
    decls = (Param("pin", "pin", type=Type.INTEGER, secret=True),)
    params, errors = parse(decls, env(pin="hunter2"))
    assert "hunter2" in params.secrets
    assert "hunter2" not in str(errors[0])


def test_params_are_immutable() -> None:
    params, _ = parse(DECLS, env(name="n"))
    with pytest.raises(AttributeError):
        params.name = "other"  # type: ignore[misc]


def test_unknown_environment_is_ignored() -> None:
    params, errors = parse(DECLS, env(name="n", junk="1"))
    assert errors == [] and "junk" not in params


@pytest.mark.parametrize("text,words", [
    ("-f /etc/a.cfg", ["-f", "/etc/a.cfg"]),
    ("'$(touch /tmp/x)' ;", ["$(touch /tmp/x)", ";"]),
    ('-L "node one"', ["-L", "node one"]),
])
def test_split_args_never_expands(text: str, words: list) -> None:
    assert split_args(text) == (words, None)


def test_split_args_reports_unbalanced_quotes() -> None:
    words, problem = split_args("-f 'unterminated")
    assert words == [] and problem and "cannot be split" in problem


@pytest.mark.parametrize("text", ["", "  -f /a  -f /b ", "-L node1\t-V", "a#b c", "$(x) ; `y`"])
def test_split_args_fast_path_agrees_with_shlex(text: str) -> None:
    import shlex
    assert split_args(text) == (shlex.split(text, comments=False, posix=True), None)
