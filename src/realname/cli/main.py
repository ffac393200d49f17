"""``realname``: compare, quality, calibrate, bench, serve, and the registry and operations commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from realname import __version__
from realname.cli import audit, bench, liveness, operations, reader, registry, supervision
from realname.cli.common import EXIT_BAD_INPUT, err, errors_as_exit, out, settings
from realname.errors import RealnameError

app = typer.Typer(help="Real-name registration with live face verification.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(bench.app, name="bench")
app.add_typer(liveness.app, name="liveness")
app.add_typer(reader.app, name="reader")
app.command("calibrate")(bench.calibrate_cmd)
registry.register(app)
supervision.register(app)
operations.register(app)
audit.register(app)

EXIT_FOR = {"match": 0, "no_match": 1, "review": 3}


def _version(show: bool) -> None:
    if show:
        out.print(f"realname {__version__}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", help="also show the native libraries' own output "
                                          "(TensorFlow Lite, absl)")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """Real-name registration with live face verification."""
    from realname.engine.quiet import set_verbose

    set_verbose(verbose)  # before any command loads a model


EngineOpt = Annotated[str | None, typer.Option("--engine", help="cascade (default), fusion, sface, dlib")]


@app.command()
def compare(
    doc_photo: Annotated[Path, typer.Argument(help="the ID document's portrait")],
    live_photo: Annotated[Path, typer.Argument(help="the live camera frame")],
    as_json: Annotated[bool, typer.Option("--json", help="full record, including the score")] = False,
    engine: EngineOpt = None,
) -> None:
    """Is the person in LIVE_PHOTO the one in DOC_PHOTO? Exit 0 match, 1 no match, 3 review, 2 bad input."""
    from realname.faces import FaceService, match_json
    from realname.images import read_image

    with errors_as_exit():
        svc = FaceService(settings(engine=engine))
        result = svc.compare(read_image(doc_photo), read_image(live_photo))
        record = match_json(result, svc.thresholds)
    if as_json:
        out.print_json(json.dumps(record))
    else:
        colour = {"pass": "green", "fail": "red", "review": "yellow"}[record["decision"]]
        out.print(f"Decision: [bold {colour}]{record['decision'].upper()}[/]")
        for side in ("document", "live"):
            for f in record["quality"][side]["findings"]:
                out.print(f"  {side} photo: {f['message']}")
    raise typer.Exit(EXIT_FOR[result.decision.value])


@app.command()
def quality(
    image: Annotated[Path, typer.Argument(help="a face photo")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Is this photo good enough to match? Lists what to fix. Exit 0 acceptable, 1 not, 2 bad input."""
    from realname.faces import FaceService, quality_json
    from realname.images import read_image

    with errors_as_exit():
        report = FaceService(settings()).quality(read_image(image))
    record = quality_json(report)
    if as_json:
        out.print_json(json.dumps(record))
    else:
        out.print("Quality: " + ("[green]acceptable[/]" if report.acceptable else "[red]not acceptable[/]"))
        for f in record["findings"]:
            out.print(f"  - {f['message']}")
    raise typer.Exit(0 if report.acceptable else 1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default 8000")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes (uvicorn); each builds its own app "
                                                              "from the environment's settings")] = 1,
) -> None:
    """Start the HTTP service (REST API). With --workers N, N processes share the port: stateless, one database."""
    import uvicorn

    from realname.api.app import create_app

    try:
        s = settings(host=host, port=port)
    except (RealnameError, ValueError) as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    import logging

    from realname.operations import logs

    logs.configure(getattr(logging, s.log_level.upper()))
    # log_config=None: uvicorn's own loggers go through the JSON handler; no access log (it would print query
    # strings): realname.operations.requests writes one line per request instead.
    if workers > 1:  # each worker imports the factory and reads its settings from the environment
        uvicorn.run("realname.api.app:create_app", factory=True, host=s.host, port=s.port, workers=workers,
                    log_config=None, access_log=False)
    else:
        uvicorn.run(create_app(s), host=s.host, port=s.port, log_config=None, access_log=False)


def run() -> None:
    app()

if __name__ == "__main__":
    run()
