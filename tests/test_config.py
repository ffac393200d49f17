"""Settings that must never reach a real service."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError
from typer.testing import CliRunner

from realname.cli.main import app
from realname.config import Settings


def test_fixed_challenge_needs_test_mode() -> None:
    with pytest.raises(ValidationError, match="for tests only"):
        Settings(fixed_challenge="blink")
    assert Settings(fixed_challenge="blink", test_mode=True).fixed_challenge == "blink"


def test_serve_refuses_to_start_with_a_fixed_challenge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALNAME_FIXED_CHALLENGE", "turn_left,blink")
    monkeypatch.delenv("REALNAME_TEST_MODE", raising=False)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2 and "for tests only" in result.output


def test_signal_thresholds_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALNAME_SIGNALS__MANY_OUTLETS", "4")
    assert Settings().signals.many_outlets == 4


def test_the_readmes_settings_table_names_every_setting() -> None:
    """An operator's engineers read the settings from the README's table: every field of Settings is a row
    (nested groups as ``REALNAME_<GROUP>__<NAME>``)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Settings"):]
    table = section[:section.index("\n## ")]
    named = set(re.findall(r"`(REALNAME_[A-Z0-9_]+)", table))
    for name, field in Settings.model_fields.items():
        env = f"REALNAME_{name.upper()}"
        factory = field.default_factory
        nested = isinstance(factory, type) and issubclass(factory, BaseModel)  # a group, not a list
        assert (env + "__" if nested else env) in named, f"{env} is not in the README's settings table"


def test_dlib_alone_decides_only_with_the_operators_own_calibration(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="unsafe on East-Asian faces"):
        Settings(engine="dlib")
    own = tmp_path / "thresholds.json"
    assert Settings(engine="dlib", thresholds_file=own).engine == "dlib"
    assert Settings(engine="cascade").engine == "cascade"  # dlib stays a component of the cascade and fusion
    result = CliRunner().invoke(app, ["compare", str(own), str(own), "--engine", "dlib"])
    assert result.exit_code == 1 and "realname calibrate" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("REALNAME_ENGINE", "dlib")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2 and "unsafe on East-Asian faces" in result.output
