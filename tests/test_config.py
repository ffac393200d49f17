"""Settings that must never reach a real service."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
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
