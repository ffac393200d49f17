"""``realname liveness``: run a recorded clip against a challenge, or print the actions it shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from realname.cli.common import errors_as_exit, out

app = typer.Typer(help="Active liveness on recorded clips.", no_args_is_help=True)


@app.command("run")
def run_cmd(
    video: Annotated[Path, typer.Argument(help="a recorded clip (MP4, AVI, WebM, Y4M)")],
    challenge: Annotated[str | None, typer.Option(help="actions in order, e.g. turn_left,blink,look_up "
                                                       "(default: the actions the clip shows)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="every check with its value and limit")] = False,
) -> None:
    """Decide a clip against a challenge (no signature needed offline). Exit 0 passed, 1 failed, 2 bad input."""
    from realname.engine import build_engine
    from realname.liveness.challenges import parse_actions
    from realname.liveness.offline import run_clip

    with errors_as_exit():
        actions = parse_actions(challenge) if challenge else None
        result = run_clip(video, actions, build_engine("local"))
    record = result.as_dict()
    if as_json:
        out.print_json(json.dumps(record))
    else:
        out.print("Live check: " + ("[bold green]PASSED[/]" if result.passed else "[bold red]FAILED[/]"))
        for line in result.advice:
            out.print(f"  - {line}")
    raise typer.Exit(0 if result.passed else 1)


@app.command("timeline")
def timeline_cmd(video: Annotated[Path, typer.Argument(help="a recorded clip")],
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The actions seen in a clip over time."""
    from realname.liveness.offline import timeline

    with errors_as_exit():
        events = timeline(video)
    if as_json:
        out.print_json(json.dumps([{"action": e.action.value, "start": e.start, "peak": e.peak, "end": e.end,
                                    "value": e.value} for e in events]))
        return
    table = Table(title=f"{video.name}: {len(events)} actions")
    for col in ("action", "start s", "peak s", "end s", "peak value"):
        table.add_column(col, justify="right")
    for e in events:
        table.add_row(e.action.value, f"{e.start:.2f}", f"{e.peak:.2f}", f"{e.end:.2f}", f"{e.value:.2f}")
    out.print(table)
