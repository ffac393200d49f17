"""Passive authentication of a passport chip (ICAO Doc 9303 part 11, "eMRTD"): the document security object
(EF.SOD, a CMS SignedData) lists a hash of every data group; its signer (the issuing state's document signer
certificate, carried in the SOD) must be issued by a country signing CA that the operator trusts, and its
signature must cover those hashes. A chip read whose DG1 (the MRZ) and DG2 (the face) hash to the listed values
was written by the issuing state and not altered since. It does not prove the chip is not a clone (that is active
or chip authentication, which needs the reader's live session with the chip); the record says which was done.

asn1crypto parses the CMS structures and the certificates; cryptography checks every signature. The only schema
declared here is ICAO's LDSSecurityObject, which neither library ships.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import algos, cms, core, parser
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from realname.errors import AttestationError, BadInputError

LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
MAX_SOD_BYTES = 64 * 1024  # real SODs are 2-8 KB
DG1_TAG, DG2_TAG = 0x61, 0x75


class DataGroupHash(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("number", core.Integer), ("value", core.OctetString)]  # noqa: RUF012 (asn1crypto's schema form)


class DataGroupHashes(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = DataGroupHash


class LdsSecurityObject(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("version", core.Integer), ("hash_algorithm", algos.DigestAlgorithm),  # noqa: RUF012
               ("hashes", DataGroupHashes), ("lds_version", core.Any, {"optional": True})]


@dataclass(frozen=True)
class ChipRead:
    """What passive authentication established."""

    data_groups: tuple[int, ...]  # the data groups whose hashes were checked
    hash_algorithm: str
    signer: str  # the document signer's subject, e.g. "CN=HJP PB DS,OU=Document Signer,O=...,C=DE"
    country_signer: str  # the trusted CSCA that issued it
    mrz: str  # from DG1, to compare with the MRZ the kiosk sent


HASHES = frozenset({"sha1", "sha224", "sha256", "sha384", "sha512"})  # what ICAO 9303 allows for data groups


def _hash(name: str, data: bytes) -> bytes:
    if name not in HASHES:  # an odd name (shake_128, an unknown OID) is refused, not handed to hashlib
        raise BadInputError(f"unsupported hash {name}", code="chip_sod_malformed")
    return hashlib.new(name, data).digest()


def _signed_data(sod: bytes) -> cms.SignedData:
    if not 0 < len(sod) <= MAX_SOD_BYTES:
        raise BadInputError("the chip's document security object is empty or too large", code="chip_sod_malformed")
    try:
        class_, _, tag, _, contents, _ = parser.parse(sod, strict=True)
        if class_ != 1 or tag != 23:  # EF.SOD is [APPLICATION 23] around a ContentInfo
            raise ValueError("not EF.SOD")
        info = cms.ContentInfo.load(contents)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed = info["content"]
        assert isinstance(signed, cms.SignedData)
        _ = signed.native  # parse everything now: a malformed field fails here, not half-way through the checks
        return signed
    except (ValueError, TypeError, KeyError, AssertionError) as exc:
        raise BadInputError(f"the chip's document security object cannot be read ({exc})",
                            code="chip_sod_malformed") from None


def _verify(cert: x509.Certificate, signature: bytes, data: bytes, algorithm: algos.SignedDigestAlgorithm) -> None:
    key, hash_name = cert.public_key(), algorithm.hash_algo
    chosen = {"sha1": hashes.SHA1(), "sha224": hashes.SHA224(), "sha256": hashes.SHA256(),
              "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}.get(hash_name)
    if chosen is None:
        raise AttestationError(f"unsupported signature hash {hash_name}", code="chip_sod_malformed")
    kind = algorithm.signature_algo
    try:
        if kind == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            salt = int(algorithm["parameters"]["salt_length"].native)
            key.verify(signature, data, padding.PSS(padding.MGF1(chosen), salt), chosen)
        elif kind == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), chosen)
        elif kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(chosen))
        else:
            raise AttestationError(f"unsupported signature {kind} for this key", code="chip_sod_malformed")
    except InvalidSignature:
        raise AttestationError("the document signer's signature does not cover these hashes",
                               code="chip_signature_invalid") from None


def _signer(signed: cms.SignedData, info: cms.SignerInfo) -> x509.Certificate:
    sid = info["sid"]
    for choice in signed["certificates"] or []:
        cert = choice.chosen
        if not isinstance(cert, cms.Certificate):
            continue
        if sid.name == "issuer_and_serial_number":
            hit = (cert.issuer == sid.chosen["issuer"]
                   and cert.serial_number == sid.chosen["serial_number"].native)
        else:
            hit = cert.key_identifier == sid.chosen.native
        if hit:
            return x509.load_der_x509_certificate(cert.dump())
    raise AttestationError("the chip's document security object carries no signer certificate",
                           code="chip_signer_missing")


def _country_signer(signer: x509.Certificate, trust_list: Sequence[x509.Certificate], at: datetime) -> x509.Certificate:
    for csca in trust_list:
        if csca.subject != signer.issuer:
            continue
        try:
            signer.verify_directly_issued_by(csca)
        except (InvalidSignature, ValueError, TypeError):
            continue
        for cert in (signer, csca):
            if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
                raise AttestationError(f"certificate {cert.subject.rfc4514_string()} is not valid at {at:%Y-%m-%d}",
                                       code="chip_signer_expired")
        return csca
    raise AttestationError(f"the document signer {signer.subject.rfc4514_string()} is not issued by a trusted "
                           "country signing CA", code="chip_signer_untrusted")


def mrz_of_dg1(dg1: bytes) -> str:
    """The MRZ text in DG1 (tag 61 around 5F1F)."""
    try:
        class_, _, tag, _, contents, _ = parser.parse(dg1, strict=True)
        if class_ != 1 or tag != 1:
            raise ValueError("not DG1")
        class_, _, tag, _, mrz, _ = parser.parse(contents, strict=True)
        if class_ != 1 or tag != 31:
            raise ValueError("no MRZ in DG1")
        return str(mrz.decode("ascii"))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise BadInputError("DG1 is not an MRZ data group", code="chip_dg_malformed") from None


def passive_authentication(sod: bytes, data_groups: Mapping[int, bytes], trust_list: Sequence[x509.Certificate],
                           *, at: datetime) -> ChipRead:
    """Check a chip read: every given data group hashes to the SOD's value, the SOD's signature is the document
    signer's, and the document signer is issued by a trusted CSCA. DG1 is required (the MRZ it proves)."""
    try:
        return _passive_authentication(sod, data_groups, trust_list, at)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:  # a crafted field asn1crypto met
        raise BadInputError(f"the chip's document security object cannot be read ({type(exc).__name__})",
                            code="chip_sod_malformed") from None


def _passive_authentication(sod: bytes, data_groups: Mapping[int, bytes], trust_list: Sequence[x509.Certificate],
                            at: datetime) -> ChipRead:
    if 1 not in data_groups:
        raise BadInputError("a chip read needs DG1 (the MRZ)", code="chip_dg_missing")
    signed = _signed_data(sod)
    encap = signed["encap_content_info"]
    if encap["content_type"].dotted != LDS_SECURITY_OBJECT or encap["content"] is None:
        raise BadInputError("the SOD does not hold an LDS security object", code="chip_sod_malformed")
    content = encap["content"].contents
    try:
        lds = LdsSecurityObject.load(content)
        algorithm = lds["hash_algorithm"]["algorithm"].native
        listed = {int(h["number"].native): bytes(h["value"].native) for h in lds["hashes"]}
    except (ValueError, TypeError):
        raise BadInputError("the LDS security object cannot be read", code="chip_sod_malformed") from None
    for number, data in sorted(data_groups.items()):
        if number not in listed:
            raise AttestationError(f"DG{number} is not listed in the SOD", code="chip_dg_unlisted")
        if _hash(algorithm, data) != listed[number]:
            raise AttestationError(f"DG{number} was changed after the issuing state signed it",
                                   code="chip_dg_hash_mismatch")
    infos = signed["signer_infos"]
    if len(infos) != 1:
        raise BadInputError("the SOD must have exactly one signer", code="chip_sod_malformed")
    info = infos[0]
    attrs = info["signed_attrs"]
    if not attrs:
        raise BadInputError("the SOD's signer has no signed attributes", code="chip_sod_malformed")
    found = {a["type"].native: a["values"][0] for a in attrs}
    digest = found.get("message_digest")
    if digest is None or bytes(digest.native) != _hash(info["digest_algorithm"]["algorithm"].native, content):
        raise AttestationError("the SOD's signed digest does not match its hash list", code="chip_signature_invalid")
    signer = _signer(signed, info)
    # the signature covers the DER of the signed attributes as a SET (tag 31), not as the [0] they are sent in
    signed_attrs = b"\x31" + attrs.dump()[1:]
    _verify(signer, bytes(info["signature"].native), signed_attrs, info["signature_algorithm"])
    csca = _country_signer(signer, trust_list, at)
    return ChipRead(tuple(sorted(data_groups)), algorithm, signer.subject.rfc4514_string(),
                    csca.subject.rfc4514_string(), mrz_of_dg1(data_groups[1]))
