"""Shared CLI plumbing: settings, error reporting, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from realname.config import Settings
from realname.errors import BadInputError, ConfigError, RealnameError

EXIT_BAD_INPUT = 2
# Piped output (CI logs, files) gets a wide fixed width so report tables are not squeezed to 80 columns.
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
out = Console(width=None if sys.stdout.isatty() else 160)


def settings(**overrides: Any) -> Settings:
    """The environment's settings with the command line's options; a setting that breaks a rule is a ConfigError
    (its message, not a validation traceback)."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())) from None


def fail(exc: RealnameError) -> NoReturn:
    err.print(f"[bold red]error[/] ({exc.code}): {exc.message}", highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT if isinstance(exc, BadInputError) else 1)


@contextmanager
def errors_as_exit() -> Iterator[None]:
    try:
        yield
    except RealnameError as exc:
        fail(exc)


@contextmanager
def progress(description: str, total: int) -> Iterator[Any]:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, disable=not sys.stderr.isatty(), transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
