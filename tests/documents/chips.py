"""Passport chips for tests: a country signing CA, a document signer it issued, and an EF.SOD over the data
groups, built with asn1crypto and cryptography the way an issuing state's personalisation system does."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from realname.documents.emrtd import LDS_SECURITY_OBJECT, LdsSecurityObject

ISSUED = datetime(2025, 1, 1, tzinfo=UTC)


def tlv(tag: bytes, body: bytes) -> bytes:
    n = len(body)
    length = bytes([n]) if n < 0x80 else (lambda b: bytes([0x80 | len(b)]) + b)(n.to_bytes((n.bit_length() + 7) // 8,
                                                                                            "big"))
    return tag + length + body


def dg1(mrz: str) -> bytes:
    return tlv(b"\x61", tlv(b"\x5f\x1f", mrz.encode("ascii")))


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey, public: ec.EllipticCurvePublicKey,
          years: int, ca: bool) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(ISSUED).not_valid_after(ISSUED + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
            .sign(key, hashes.SHA256()))


@dataclass
class CountrySigner:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    ds_key: ec.EllipticCurvePrivateKey
    ds_cert: x509.Certificate

    @classmethod
    def new(cls, name: str = "Utopia CSCA") -> CountrySigner:
        key, ds_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        cert = _cert(name, name, key, key.public_key(), 15, True)
        return cls(key, cert, ds_key, _cert(f"{name} DS", name, key, ds_key.public_key(), 10, False))

    def sod(self, data_groups: Mapping[int, bytes]) -> bytes:
        lds = LdsSecurityObject({"version": 0, "hash_algorithm": {"algorithm": "sha256"},
                                 "hashes": [{"number": n, "value": hashlib.sha256(d).digest()}
                                            for n, d in sorted(data_groups.items())]})
        content = lds.dump()
        attrs = cms.CMSAttributes([
            {"type": "content_type", "values": [LDS_SECURITY_OBJECT]},
            {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
        ])
        signature = self.ds_key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
        ds = asn1_x509.Certificate.load(self.ds_cert.public_bytes(Encoding.DER))
        signer = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": {"issuer": ds.issuer,
                                                                       "serial_number": ds.serial_number}}),
            "digest_algorithm": {"algorithm": "sha256"}, "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"}, "signature": signature})
        signed = cms.SignedData({
            "version": "v3", "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": LDS_SECURITY_OBJECT, "content": content},
            "certificates": [ds], "signer_infos": [signer]})
        return tlv(b"\x77", cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())
