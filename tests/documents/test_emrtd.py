"""Passive authentication of passport chips: a published reference chip (BSI TR-03105-5's EF.SOD and EF.DG1,
the ones ZeroPass/pymrtd tests against) and chips issued here by a test country signing CA."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.documents.chips import CountrySigner, dg1

from realname.documents import emrtd
from realname.errors import AttestationError, BadInputError

DATA = Path(__file__).parent / "data"
BSI_SOD = bytes.fromhex((DATA / "bsi_tr03105_ef_sod.hex").read_text().strip())
BSI_DG1 = bytes.fromhex((DATA / "bsi_tr03105_ef_dg1.hex").read_text().strip())
MRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"
AT = datetime(2026, 12, 7, tzinfo=UTC)


def code(exc: pytest.ExceptionInfo[BaseException]) -> str:
    return str(getattr(exc.value, "code", ""))


def test_the_reference_chip_verifies_up_to_the_trust_list() -> None:
    # The BSI document signer's RSA-PSS signature and the DG1 hash verify; its CSCA is not in our trust list.
    assert emrtd.mrz_of_dg1(BSI_DG1).startswith("P<D<<MUSTERMANN<<ERIKA")
    with pytest.raises(AttestationError) as err:
        emrtd.passive_authentication(BSI_SOD, {1: BSI_DG1}, [], at=datetime(2014, 6, 1, tzinfo=UTC))
    assert code(err) == "chip_signer_untrusted"


def test_the_reference_chip_refuses_an_altered_mrz_or_signature() -> None:
    with pytest.raises(AttestationError) as err:
        emrtd.passive_authentication(BSI_SOD, {1: BSI_DG1.replace(b"ERIKA", b"ERIKO")}, [], at=AT)
    assert code(err) == "chip_dg_hash_mismatch"
    flipped = bytearray(BSI_SOD)
    flipped[-5] ^= 1
    with pytest.raises(AttestationError) as err:
        emrtd.passive_authentication(bytes(flipped), {1: BSI_DG1}, [], at=AT)
    assert code(err) == "chip_signature_invalid"


def test_a_chip_issued_by_a_trusted_csca_passes() -> None:
    state = CountrySigner.new()
    groups = {1: dg1(MRZ), 2: b"\x75 a face image data group"}
    read = emrtd.passive_authentication(state.sod(groups), groups, [state.cert], at=AT)
    assert read.mrz == MRZ and read.data_groups == (1, 2) and read.hash_algorithm == "sha256"
    assert "Utopia CSCA DS" in read.signer and "Utopia CSCA" in read.country_signer


def test_another_face_or_another_csca_or_an_expired_signer_is_refused() -> None:
    state, other = CountrySigner.new(), CountrySigner.new()
    groups = {1: dg1(MRZ), 2: b"\x75 the holder's face"}
    sod = state.sod(groups)
    with pytest.raises(AttestationError) as err:
        emrtd.passive_authentication(sod, {**groups, 2: b"\x75 an accomplice's face"}, [state.cert], at=AT)
    assert code(err) == "chip_dg_hash_mismatch"
    with pytest.raises(AttestationError) as err:
        emrtd.passive_authentication(sod, groups, [other.cert], at=AT)
    assert code(err) == "chip_signer_untrusted"
    # a CSCA of the same name but another key (a forger's) does not pass either
    forger = CountrySigner.new("Utopia CSCA")
    with pytest.raises(AttestationError) as err:
        emrtd.passive_authentication(sod, groups, [forger.cert], at=AT)
    assert code(err) == "chip_signer_untrusted"
    with pytest.raises(AttestationError) as err:
        emrtd.passive_authentication(sod, groups, [state.cert], at=datetime(2040, 1, 1, tzinfo=UTC))
    assert code(err) == "chip_signer_expired"
    with pytest.raises(AttestationError) as err:
        emrtd.passive_authentication(sod, {**groups, 3: b"fingerprints"}, [state.cert], at=AT)
    assert code(err) == "chip_dg_unlisted"


def test_a_sod_signed_by_a_key_other_than_its_certificates_is_refused() -> None:
    state, thief = CountrySigner.new(), CountrySigner.new()
    thief.ds_cert = state.ds_cert  # the genuine certificate, with the thief's key
    groups = {1: dg1(MRZ)}
    with pytest.raises(AttestationError) as err:
        emrtd.passive_authentication(thief.sod(groups), groups, [state.cert], at=AT)
    assert code(err) == "chip_signature_invalid"


@pytest.mark.parametrize("sod", [b"", b"\x77\x00", b"\x30\x03\x02\x01\x00", b"\x77" + b"\xff" * 40, b"x" * 70000])
def test_malformed_security_objects_say_so(sod: bytes) -> None:
    with pytest.raises(BadInputError) as err:
        emrtd.passive_authentication(sod, {1: dg1(MRZ)}, [], at=AT)
    assert code(err) == "chip_sod_malformed"


def test_dg1_is_required_and_must_hold_an_mrz() -> None:
    with pytest.raises(BadInputError):
        emrtd.passive_authentication(BSI_SOD, {2: b"face"}, [], at=AT)
    with pytest.raises(BadInputError):
        emrtd.mrz_of_dg1(b"\x61\x03\x04\x01\x00")


def test_an_odd_hash_or_empty_attribute_is_malformed_not_a_crash() -> None:
    from asn1crypto import cms

    from realname.documents.emrtd import LdsSecurityObject

    state = CountrySigner.new()
    groups = {1: dg1(MRZ)}
    sod = state.sod(groups)
    signed = cms.ContentInfo.load(sod[4:] if sod[1] == 0x82 else sod[2:])["content"]
    lds = LdsSecurityObject.load(signed["encap_content_info"]["content"].native)
    lds["hash_algorithm"] = {"algorithm": "shake128"}
    signed["encap_content_info"]["content"] = lds.dump()
    from tests.documents.chips import tlv
    crafted = tlv(b"\x77", cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())
    with pytest.raises(BadInputError) as err:
        emrtd.passive_authentication(crafted, groups, [state.cert], at=AT)
    assert code(err) == "chip_sod_malformed"
