"""``realname reader``: a card reader's device key, and a simulator that produces exactly what a signing reader
sends (for development, tests and demos; a certified reader's security module or a reader bridge does this in
production)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from realname.cli.common import errors_as_exit, out
from realname.errors import BadInputError, DataSourceError

app = typer.Typer(help="Card readers that sign what they read.", no_args_is_help=True)


def _load_key(path: Path):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise DataSourceError(f"cannot read the reader key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise DataSourceError(f"{path} is not an Ed25519 private key")
    return key


def _public_b64(key) -> str:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


@app.command("keygen")
def keygen_cmd(out_file: Annotated[Path, typer.Option("--out", help="where to write the private key (PEM)")]
               ) -> None:
    """Make a reader's Ed25519 key. Prints the public key an operator administrator enrols for the reader."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    with errors_as_exit():
        if out_file.exists():
            raise BadInputError(f"{out_file} exists: a reader key is never overwritten", code="exists")
        key = Ed25519PrivateKey.generate()
        out_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        out_file.chmod(0o600)
    out.print(_public_b64(key))


@app.command("simulate")
def simulate_cmd(
    card: Annotated[Path, typer.Argument(help="the card fields as JSON (what the kiosk's reader file holds)")],
    portrait: Annotated[Path, typer.Argument(help="the chip portrait (JPEG/PNG)")],
    key: Annotated[Path, typer.Option(help="the reader's private key (from `realname reader keygen`)")],
    reader_id: Annotated[str, typer.Option(help="the id the reader was enrolled under")],
) -> None:
    """Print the reader's signed output: the card fields, the portrait (base64) and the attestation."""
    from realname.documents.attestation import sign

    with errors_as_exit():
        private = _load_key(key)
        try:
            fields = json.loads(card.read_text(encoding="utf-8"))
            image = portrait.read_bytes()
        except (OSError, ValueError) as exc:
            raise DataSourceError(f"cannot read the card or portrait: {exc}") from None
        if not isinstance(fields, dict):
            raise DataSourceError(f"{card} must hold a JSON object of card fields")
        signed = sign(private, fields, image, reader_id=reader_id, at=datetime.now(UTC))
    signed["portrait"] = base64.b64encode(image).decode("ascii")
    print(json.dumps(signed, ensure_ascii=False))
