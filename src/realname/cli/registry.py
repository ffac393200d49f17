"""Registry administration from the command line: schema, keys, demo data, operators, outlets, users, number
stock and retention (the audit trail's commands are in :mod:`realname.cli.audit`).

Thin wrappers over the use cases (:mod:`realname.operators`, :mod:`realname.registration`) and
:mod:`realname.registry.queries`: parse the arguments, call the use case as the ``SYSTEM`` actor, print the result
(``--json`` for machines). Heavy modules (SQLAlchemy, Alembic, the use cases) are imported inside the commands, so
``realname --help`` stays instant. Exit codes: 0 done, 1 failed (broken audit chain, schema drift,
database unavailable), 2 bad input (unknown code, duplicate, refused overwrite).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from realname.cli.common import err, errors_as_exit, out
from realname.errors import BadInputError, ConfigError, ConflictError, DataSourceError, NotFoundError

if TYPE_CHECKING:
    from realname.audit.chain import EventRecord
    from realname.config import Settings
    from realname.context import Services

db_app = typer.Typer(help="Database schema: create, update and check it.", no_args_is_help=True)
keys_app = typer.Typer(help="The keyring that encrypts personal data.", no_args_is_help=True)
operator_app = typer.Typer(help="Operators (basic telecom operators and MVNOs).", no_args_is_help=True)
outlet_app = typer.Typer(help="An operator's outlets (points of sale).", no_args_is_help=True)
user_app = typer.Typer(help="Users: agents, supervisors, operator admins, inspectors, auditors.",
                       no_args_is_help=True)
numbers_app = typer.Typer(help="An operator's number stock.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def register(app: typer.Typer) -> None:
    """Add the registry commands to the top-level ``realname`` app."""
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
    app.command("demo")(demo_cmd)
    app.add_typer(operator_app, name="operator")
    app.add_typer(outlet_app, name="outlet")
    app.add_typer(user_app, name="user")
    app.add_typer(numbers_app, name="numbers")
    app.command("purge")(purge_cmd)
    app.command("erase-biometrics")(erase_biometrics_cmd)
    app.command("suspend-overdue")(suspend_overdue_cmd)


# -- plumbing -----------------------------------------------------------------------------------------------------


@contextmanager
def _registry_errors(*, hint: bool = True) -> Iterator[None]:
    """``errors_as_exit``, plus one-line messages (not tracebacks) for settings and database failures: settings
    are bad input (exit 2, as for ``serve``), an unreachable or unmigrated database exits 1."""
    from pydantic import ValidationError

    from realname.registry.db import DatabaseError

    with errors_as_exit():
        try:
            yield
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "REALNAME_" + "_".join(str(p) for p in first["loc"]).upper() if first["loc"] else "settings"
            raise BadInputError(f"invalid setting {where}: {first['msg']}", code="bad_config") from None
        except DatabaseError as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            advice = " (is the schema created? run `realname db upgrade`)" if hint else ""
            raise ConfigError(f"database error: {reason}{advice}", code="database_error") from None


def _settings() -> Settings:
    from realname.config import Settings

    return Settings()


def _services() -> Services:
    from realname.context import Services

    return Services(_settings())


def _masked(url: str) -> str:
    from realname.registry.db import masked_url

    return masked_url(url)


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False)


def _json(doc: Any) -> None:
    out.print_json(json.dumps(doc, default=str))


def _event(e: EventRecord) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at, "action": e.action, "subject": e.subject, "payload": dict(e.payload),
            "hash": e.hash}


def _operator_id(svc: Services, code: str) -> str:
    from realname.registry.queries import operator_id_by_code

    with svc.db.read() as s:
        op_id = operator_id_by_code(s, code)
    if op_id is None:
        raise NotFoundError(f"no operator with code {code!r}")
    return op_id


def _outlet(svc: Services, code: str) -> tuple[str, str]:
    """(outlet id, its operator's id)."""
    from realname.registry.queries import outlet_by_code

    with svc.db.read() as s:
        outlet = outlet_by_code(s, code)
    if outlet is None:
        raise NotFoundError(f"no outlet with code {code!r}")
    return outlet.id, outlet.operator_id


# -- db -----------------------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade_cmd() -> None:
    """Create the schema, or migrate it to the latest version (alembic upgrade head)."""
    from realname.registry.db import Database
    from realname.registry.migrate import upgrade

    with _registry_errors(hint=False):
        url = _settings().database_url
        Database(url).dispose()  # a malformed URL fails here with a clear message
        upgrade(url)
    _say(f"Database schema up to date: {_masked(url)}")


@db_app.command("check")
def db_check_cmd() -> None:
    """Exit 0 when the database schema matches the code, 1 (naming the drift) when it does not."""
    from alembic.util.exc import CommandError

    from realname.registry.db import Database
    from realname.registry.migrate import check

    with _registry_errors():
        url = _settings().database_url
        Database(url).dispose()
        try:
            check(url)
        except CommandError as exc:  # e.g. "Target database is not up to date."
            raise ConfigError(f"the database schema is not current: {exc} (run `realname db upgrade`)") from None
    _say(f"Database schema matches the code: {_masked(url)}")


# -- keys ---------------------------------------------------------------------------------------------------------


@keys_app.command("init")
def keys_init_cmd(
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing keyring: data encrypted with it "
                                                        "can no longer be read")] = False,
    if_missing: Annotated[bool, typer.Option("--if-missing", help="do nothing (exit 0) when the file exists")] = False,
) -> None:
    """Write a new keyring (mode 0600) at REALNAME_KEYRING_FILE. Back it up: without it, personal data is lost."""
    from realname.privacy.keyring import KEYRING_ENV, Keyring

    with _registry_errors():
        if force and if_missing:
            raise BadInputError("--force and --if-missing contradict each other", code="bad_option")
        path = _settings().keyring_file
        if path.exists():
            if if_missing:
                return
            if not force:
                raise ConflictError(f"{path} exists; not overwritten (--force would make the data encrypted with it "
                                    "unreadable)", code="keyring_exists")
        ring = Keyring.generate()
        ring.save(path)
    _say(f"Wrote keyring {path} (mode 0600, active key {ring.active}). Back it up and keep it secret.")
    if os.environ.get(KEYRING_ENV, "").strip():
        err.print(f"[yellow]note[/]: {KEYRING_ENV} is set and takes precedence over this file", highlight=False)


@keys_app.command("rotate")
def keys_rotate_cmd(as_json: JsonOpt = False) -> None:
    """A new active data key; every encrypted value is re-encrypted with it (old keys stay in the file)."""
    from realname.operators.keys import rotate_keys
    from realname.privacy.keyring import KEYRING_ENV

    with _registry_errors():
        if os.environ.get(KEYRING_ENV, "").strip():
            # rotate_keys saves the new keyring to the file; the variable would still hold the old one and win.
            raise BadInputError(f"the keyring comes from {KEYRING_ENV}: rotate with a keyring file "
                                "(REALNAME_KEYRING_FILE) and unset the variable", code="keyring_in_env")
        svc = _services()
        previous = svc.keyring.active
        key_id, count = rotate_keys(svc, svc.settings.keyring_file)
    if as_json:
        _json({"key_id": key_id, "previous": previous, "re_encrypted": count})
    else:
        _say(f"New active key {key_id} (was {previous}); {count} values re-encrypted.")
        _say("Restart running services (realname serve) so that they load the new key.")


@keys_app.command("rotate-log")
def keys_rotate_log_cmd(as_json: JsonOpt = False) -> None:
    """A new active log signing key (the first one for an older keyring); old ones stay, so old tree heads still
    check. Give the regulator the new public keys (realname audit log-keys)."""
    from realname.operators.keys import rotate_log_key
    from realname.privacy.keyring import KEYRING_ENV

    with _registry_errors():
        if os.environ.get(KEYRING_ENV, "").strip():
            raise BadInputError(f"the keyring comes from {KEYRING_ENV}: rotate with a keyring file "
                                "(REALNAME_KEYRING_FILE) and unset the variable", code="keyring_in_env")
        svc = _services()
        key_id, previous = rotate_log_key(svc, svc.settings.keyring_file)
    if as_json:
        _json({"log_key_id": key_id, "previous": previous})
    else:
        _say(f"New active log key {key_id} (was {previous or 'none'}). Restart running services; hand the new "
             "public keys (realname audit log-keys) to the regulator.")


# -- demo ---------------------------------------------------------------------------------------------------------


def demo_cmd(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="exit 0 when the demo data is already there")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create the schema and a demo operator, outlet, users and numbers (local trials only, never production).
    Exit 1 when the demo data already exists, unless --if-empty."""
    from realname.operators.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
    from realname.registry.migrate import upgrade

    with _registry_errors():
        svc = _services()
        upgrade(svc.settings.database_url)
        demo = seed_demo(svc)
    if demo is None:
        if as_json:
            _json({"created": False})
        else:
            _say("demo data already present")
        raise typer.Exit(0 if if_empty else 1)
    roles = dict(DEMO_USERS)
    if as_json:
        _json({"created": True, "operator": {"code": "DEMO", "id": demo.operator_id},
               "outlet": {"code": "DEMO-001", "id": demo.outlet_id},
               "users": [{"username": u, "role": roles[u], "id": i} for u, i in demo.users.items()],
               "password": DEMO_PASSWORD, "numbers": demo.numbers})
        return
    _say(f"Demo data created in {_masked(svc.settings.database_url)}")
    _say(f"  operator DEMO ({demo.operator_id}), outlet DEMO-001 ({demo.outlet_id}), {demo.numbers} numbers")
    for username in demo.users:
        _say(f"  user {username:<12} role {roles[username]}")
    _say(f"  password for every demo user: {DEMO_PASSWORD}")


# -- operators, outlets, users, numbers ---------------------------------------------------------------------------


@operator_app.command("add")
def operator_add_cmd(
    code: Annotated[str, typer.Argument(help="short unique code, e.g. CMCC")],
    name: Annotated[str, typer.Argument(help="display name")],
    kind: Annotated[str, typer.Option(help="basic (basic telecom operator) or mvno")] = "basic",
    cap: Annotated[int, typer.Option(help="numbers one person may hold at this operator (1-100)")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Create an operator."""
    from realname.context import SYSTEM
    from realname.operators.admin import create_operator

    with _registry_errors():
        op = create_operator(_services(), SYSTEM, code, name, kind, cap)
    if as_json:
        _json({"id": op.id, "code": op.code, "name": op.name, "kind": op.kind, "cap_per_person": op.cap_per_person})
    else:
        _say(f"Operator {op.code} created ({op.kind}, cap {op.cap_per_person} per person): {op.id}")


@outlet_app.command("add")
def outlet_add_cmd(
    operator_code: Annotated[str, typer.Argument(help="the operator's code")],
    code: Annotated[str, typer.Argument(help="short unique outlet code")],
    name: Annotated[str, typer.Argument(help="display name")],
    region: Annotated[str | None, typer.Option(help="administrative division code, e.g. 110105")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an outlet of an operator."""
    from realname.context import SYSTEM
    from realname.operators.admin import create_outlet

    with _registry_errors():
        svc = _services()
        outlet = create_outlet(svc, SYSTEM, code, name, region, operator_id=_operator_id(svc, operator_code))
    if as_json:
        _json({"id": outlet.id, "code": outlet.code, "name": outlet.name, "operator": operator_code,
               "region": outlet.region})
    else:
        _say(f"Outlet {outlet.code} of {operator_code} created: {outlet.id}")


@user_app.command("add")
def user_add_cmd(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="agent, supervisor, operator_admin, inspector or auditor")],
    password: Annotated[str, typer.Option(prompt=True, confirmation_prompt=True, hide_input=True,
                                          help="at least 8 characters, not a common or trivial one (prompted, "
                                               "hidden, when omitted)")],
    operator: Annotated[str | None, typer.Option(help="operator code (default: the outlet's operator)")] = None,
    outlet: Annotated[str | None, typer.Option(help="outlet code (agents need one)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a user. Inspectors and auditors belong to the regulator, not to an operator."""
    from realname.context import SYSTEM
    from realname.operators.admin import create_user

    with _registry_errors():
        svc = _services()
        outlet_id, operator_id = _outlet(svc, outlet) if outlet else (None, None)
        if operator is not None:
            operator_id = _operator_id(svc, operator)
        user = create_user(svc, SYSTEM, username, password, role, operator_id=operator_id, outlet_id=outlet_id)
    if as_json:
        _json({"id": user.id, "username": user.username, "role": user.role, "operator_id": user.operator_id,
               "outlet_id": user.outlet_id})
    else:
        _say(f"User {user.username} ({user.role}) created: {user.id}")


@user_app.command("unblacklist")
def user_unblacklist_cmd(
    username: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="why the blacklist is lifted (recorded in the audit chain)")],
    as_json: JsonOpt = False,
) -> None:
    """Lift a user's blacklist (e.g. an operator's last administrator's). The account's active flag is unchanged."""
    from realname.context import SYSTEM
    from realname.operators.admin import find_user, lift_blacklist

    with _registry_errors():
        svc = _services()
        user = lift_blacklist(svc, SYSTEM, find_user(svc, username).id, reason)
    if as_json:
        _json({"id": user.id, "username": user.username, "blacklisted": user.blacklisted, "active": user.active})
    else:
        _say(f"Blacklist of {user.username} lifted" + ("" if user.active else " (the account stays disabled)"))


@numbers_app.command("import")
def numbers_import_cmd(
    operator_code: Annotated[str, typer.Argument(help="the operator's code")],
    file: Annotated[Path, typer.Argument(help="CSV with an 'msisdn' column (optional 'status')")],
    as_json: JsonOpt = False,
) -> None:
    """Add numbers to an operator's stock. All or nothing: one bad row refuses the file and names the line."""
    from realname.context import SYSTEM
    from realname.operators.admin import import_numbers

    with _registry_errors():
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataSourceError(f"cannot read {file}: {exc}") from None
        svc = _services()
        result = import_numbers(svc, SYSTEM, text, operator_id=_operator_id(svc, operator_code))
    if as_json:
        _json(dataclasses.asdict(result))
    else:
        _say(f"{result.added} numbers added to {operator_code}, {result.skipped_existing} already present")


# -- retention ----------------------------------------------------------------------------------------------------


def purge_cmd(as_json: JsonOpt = False) -> None:
    """Delete what is past its retention period; the counts are recorded in the audit chain."""
    from realname.operators.retention import face_data_status, purge

    with _registry_errors():
        svc = _services()
        report = purge(svc)
        warning = face_data_status(svc).warning
    counts = {f.name: getattr(report, f.name) for f in dataclasses.fields(report) if f.name != "event"}
    if as_json:
        _json({**counts, "event": _event(report.event), "face_data_warning": warning})
        return
    for what, n in counts.items():
        _say(f"{what:<15} {n} deleted")
    _say(f"Recorded as audit event {report.event.seq}, hash {report.event.hash}")
    if warning:
        err.print(f"[yellow]warning[/]: {escape(warning)}", highlight=False)


def erase_biometrics_cmd(
    person_id: Annotated[str, typer.Argument(help="the person's id")],
    as_json: JsonOpt = False,
) -> None:
    """Delete every piece of face data held for one person; prints the audit event that proves it."""
    from realname.context import SYSTEM
    from realname.operators.retention import erase_biometrics

    with _registry_errors():
        event = erase_biometrics(_services(), SYSTEM, person_id)
    if as_json:
        _json(_event(event))
        return
    p = event.payload
    _say(f"Face data of {person_id} erased: {p.get('templates_deleted')} templates, "
         f"{p.get('portraits_deleted')} portraits, {p.get('face_data_left')} left")
    _say(f"Proof: audit event {event.seq} at {event.at}, hash {event.hash}")


def suspend_overdue_cmd(as_json: JsonOpt = False) -> None:
    """Suspend numbers whose re-verification deadline has passed (run it from cron)."""
    from realname.registration.registrations import suspend_overdue

    with _registry_errors():
        n = suspend_overdue(_services())
    if as_json:
        _json({"lapsed_orders": n})
    else:
        _say(f"{n} overdue re-verification orders lapsed")
