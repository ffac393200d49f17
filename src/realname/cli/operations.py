"""Operating the service from the command line: backup, restore and doctor. Thin wrappers over
:mod:`realname.operations`; heavy modules are imported inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from realname.cli.common import out
from realname.cli.registry import JsonOpt, _json, _registry_errors, _say, _services


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
    app.command("doctor")(doctor_cmd)


def backup_cmd(
    archive: Annotated[Path, typer.Argument(help="the archive to write (e.g. realname-2026-12-07.tar.gz)")],
    as_json: JsonOpt = False,
) -> None:
    """Write one archive holding the database and the keyring, after checking that the keyring opens the data
    and the audit chain verifies. The archive holds the keys: keep it as secret as the keyring."""
    from realname.operations.backup import backup, describe

    with _registry_errors():
        manifest = backup(_services(), archive)
    if as_json:
        _json(manifest)
    else:
        d = describe(manifest)
        _say(f"Wrote {archive}: {d['database']} at migration {d['migration']}, {d['audit_events']} audit events, "
             f"active key {d['active_key']}.")


def restore_cmd(
    archive: Annotated[Path, typer.Argument(help="an archive written by `realname backup`")],
    as_json: JsonOpt = False,
) -> None:
    """Replace the database and the keyring file with the archive's, once the archive's keyring has opened a sample
    of every encrypted field and its audit chain verifies (otherwise nothing changes). Stop the service first."""
    from realname.operations.backup import describe, restore

    with _registry_errors():
        manifest = restore(_services(), archive)
    if as_json:
        _json(manifest)
    else:
        d = describe(manifest)
        _say(f"Restored {archive} (made {d['created']}): {d['audit_events']} audit events, active key "
             f"{d['active_key']}. The keyring file that was replaced is kept as *.before-restore.")
        _say("Run `realname db upgrade` if this version's migrations are newer, then start the service.")


def doctor_cmd(as_json: JsonOpt = False) -> None:
    """Check this installation: Python, the locked packages, the model files, the database and its migrations, the
    keyring, chromium. Exit 1 when something required is wrong, with the command that fixes it."""
    import dataclasses

    from pydantic import ValidationError

    from realname.config import Settings
    from realname.operations.doctor import Finding, examine

    try:
        findings = examine(Settings())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "REALNAME_" + "_".join(str(p) for p in first["loc"]).upper() if first["loc"] else "settings"
        findings = [Finding("settings", False, f"invalid setting {where}: {first['msg']}", f"fix {where}")]
    problems = [f for f in findings if f.problem]
    if as_json:
        _json({"ok": not problems, "findings": [dataclasses.asdict(f) for f in findings]})
    else:
        for f in findings:
            mark = "[green]     ok[/]" if f.ok else ("[red]problem[/]" if f.required else "[yellow]missing[/]")
            out.print(f"{mark} {escape(f.part)}: {escape(f.detail)}", highlight=False)
            if f.fix and not f.ok:
                out.print(f"        fix: {escape(f.fix)}", highlight=False)
        out.print(f"{len(problems)} problem(s)" if problems else "[green]Ready to run.[/]", highlight=False)
    raise typer.Exit(1 if problems else 0)
