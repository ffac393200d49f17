"""``realname audit ...`` and ``realname witness ...``: the audit trail's checks, the transparency log's tree
heads and proofs, and the regulator's witness file.

Commands that check a proof (``check-proof``, ``check-head`` with ``--proof``, ``witness ...``) read files only:
no settings, no database. Exit codes: 0 holds, 1 does not hold (tampering, a rewritten log), 2 bad input.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from realname.cli.common import out
from realname.cli.registry import JsonOpt, _json, _registry_errors, _say, _services
from realname.errors import BadInputError

audit_app = typer.Typer(help="The audit trail and its transparency log (signed tree heads, proofs).",
                        no_args_is_help=True)
witness_app = typer.Typer(help="The regulator's witness: tree heads kept outside the operator's database.",
                          no_args_is_help=True)

KeyOpt = Annotated[Path, typer.Option("--key", help="the operator's log public keys (realname audit log-keys)")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="write the JSON document to this file")]
StoreOpt = Annotated[Path, typer.Option("--store", envvar="REALNAME_WITNESS_FILE",
                                        help="the witness file (default ./witness.json)")]


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(witness_app, name="witness")


def _read(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError(f"no {what} file at {path}", code="no_file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInputError(f"cannot read the {what} file {path}: {exc}", code="bad_file") from None


def _keys(path: Path) -> dict[str, bytes]:
    from realname.audit.tree_heads import parse_keys

    return parse_keys(_read(path, "log keys"))


def _emit(doc: dict[str, Any], out_file: Path | None) -> None:
    if out_file is None:
        _json(doc)
    else:
        out_file.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _say(f"Wrote {out_file}")


def _verdict(ok: bool, detail: str) -> None:
    if ok:
        _say(f"OK: {detail}")
    else:
        out.print(f"[bold red]FAILED[/]: {escape(detail)}", highlight=False)
    raise typer.Exit(0 if ok else 1)


@audit_app.command("verify")
def audit_verify_cmd(
    whole: Annotated[bool, typer.Option("--full/--incremental", help="walk every event from the first (the "
                                        "default), or only those since the last verified prefix (what reports do)")]
    = True,
    as_json: JsonOpt = False,
) -> None:
    """Check every audit event, their order and the log's tree heads. Exit 0 intact, 1 broken (naming the first
    bad event)."""
    from realname.supervision.inspection import chain_status

    with _registry_errors():
        report = chain_status(_services(), whole=whole)
    if as_json:
        _json(dataclasses.asdict(report))
    elif report.ok:
        _say(f"Audit chain intact: {report.count} events, last hash {report.last_hash}; {report.detail}")
    else:
        out.print(f"[bold red]Audit chain BROKEN[/] at event {report.first_bad_seq} ({report.problem}): "
                  f"{escape(report.detail)}", highlight=False)
        _say(f"  {report.count} events verified before it; last good hash {report.last_hash}")
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command("publish-head")
def publish_head_cmd(out_file: OutOpt = None) -> None:
    """Bring every committed event into the log and sign a tree head (STH) for it; prints the head as JSON."""
    from realname.supervision.transparency import publish_head

    with _registry_errors():
        head = publish_head(_services())
    _emit(head.as_dict(), out_file)


@audit_app.command("log-keys")
def log_keys_cmd(out_file: OutOpt = None) -> None:
    """The log's public keys (old ones included): what the regulator needs to check heads and proofs."""
    from realname.audit.tree_heads import keys_document
    from realname.supervision.transparency import log_keys

    with _registry_errors():
        keys = log_keys(_services())
        if not keys:
            raise BadInputError("the keyring has no log key: run `realname keys rotate-log`", code="no_log_key")
    _emit(keys_document(keys), out_file)


@audit_app.command("prove")
def prove_cmd(registration_id: Annotated[str, typer.Argument(help="the registration")],
              out_file: OutOpt = None) -> None:
    """The registration's audit events with their inclusion proofs against a signed tree head (JSON)."""
    from realname.context import SYSTEM
    from realname.supervision.transparency import prove_registration

    with _registry_errors():
        doc = prove_registration(_services(), SYSTEM, registration_id)
    _emit(doc, out_file)


@audit_app.command("consistency")
def consistency_cmd(
    old: Annotated[int, typer.Argument(help="the size of the older published head")],
    new: Annotated[int | None, typer.Argument(help="the size of the newer one (default: the latest)")] = None,
    out_file: OutOpt = None,
) -> None:
    """The consistency proof between two published tree heads (JSON)."""
    from realname.context import SYSTEM
    from realname.supervision.transparency import prove_consistency

    with _registry_errors():
        doc = prove_consistency(_services(), SYSTEM, old, new)
    _emit(doc, out_file)


@audit_app.command("check-proof")
def check_proof_cmd(file: Annotated[Path, typer.Argument(help="an inclusion proof (audit prove)")],
                    key: KeyOpt) -> None:
    """Check an inclusion proof offline with the operator's log public keys only. Exit 0 holds, 1 does not."""
    from realname.audit.proofs import check_inclusion

    with _registry_errors():
        result = check_inclusion(_read(file, "proof"), _keys(key))
    _verdict(result.ok, result.detail)


@audit_app.command("check-head")
def check_head_cmd(
    old: Annotated[Path, typer.Argument(help="the older tree head (JSON)")],
    new: Annotated[Path, typer.Argument(help="the newer tree head (JSON)")],
    key: KeyOpt,
    proof: Annotated[Path | None, typer.Option("--proof", help="the consistency proof (default: fetched from the "
                                                               "database of REALNAME_DATABASE_URL)")] = None,
) -> None:
    """Does the NEW head's log extend the OLD one's? Exit 0 yes, 1 no (history was rewritten)."""
    from realname.audit.proofs import check_consistency
    from realname.audit.tree_heads import TreeHead

    with _registry_errors():
        old_head, new_head = TreeHead.from_dict(_read(old, "tree head")), TreeHead.from_dict(_read(new, "tree head"))
        if proof is not None:
            doc = _read(proof, "proof")
        else:
            from realname.supervision.transparency import consistency_between

            doc = consistency_between(_services(), old_head, new_head)
        result = check_consistency(doc, _keys(key), old_head, new_head)
    _verdict(result.ok, result.detail)


# -- witness ------------------------------------------------------------------------------------------------------


@witness_app.command("init")
def witness_init_cmd(key: KeyOpt, store: StoreOpt = Path("witness.json")) -> None:
    """Start a witness file holding the operator's log public keys."""
    from realname.audit.witness import Witness

    with _registry_errors():
        Witness.init(store, _read(key, "log keys"))
    _say(f"Witness {store} holds the operator's log keys; add tree heads with `realname witness add`")


@witness_app.command("keys")
def witness_keys_cmd(key: KeyOpt, store: StoreOpt = Path("witness.json")) -> None:
    """Add the operator's new log keys after a rotation (old ones stay)."""
    from realname.audit.witness import Witness

    with _registry_errors():
        added = Witness(store).add_keys(_read(key, "log keys"))
    _say(f"Added log keys: {', '.join(added) or 'none (all were held)'}")


@witness_app.command("add")
def witness_add_cmd(
    head: Annotated[Path, typer.Argument(help="a tree head (audit publish-head / the API)")],
    proof: Annotated[Path | None, typer.Option("--proof", help="consistency proof with the largest head held")] = None,
    store: StoreOpt = Path("witness.json"),
) -> None:
    """Keep a tree head, once it is proven consistent with those held. Exit 1 when history was rewritten."""
    from realname.audit.witness import Witness

    with _registry_errors():
        w = Witness(store)
        done = w.add(_read(head, "tree head"), _read(proof, "proof") if proof else None)
    _say(done)


@witness_app.command("check")
def witness_check_cmd(file: Annotated[Path, typer.Argument(help="an inclusion or consistency proof")],
                      store: StoreOpt = Path("witness.json")) -> None:
    """Check a proof against the heads the witness holds. Exit 0 holds, 1 does not."""
    from realname.audit.witness import Witness

    with _registry_errors():
        result = Witness(store).check(_read(file, "proof"))
    _verdict(result.ok, result.detail)
