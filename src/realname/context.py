"""Everything a use case needs, built once per process from settings: the database, the keys, the challenge
signer, the live check and the clock. Nothing connects or loads a model until first used."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from realname.config import Settings
from realname.faces import FaceService
from realname.live_check import FaceLiveCheck, FixedLiveCheck, LiveCheck
from realname.liveness.challenges import ChallengeSigner
from realname.privacy.fields import FieldCipher
from realname.privacy.keyring import KEYRING_ENV, Keyring
from realname.registry.db import Database

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime, st.st_ino


@dataclass(frozen=True)
class Actor:
    """Who is calling: a logged-in user, or the system itself (CLI jobs)."""

    user_id: str | None
    username: str
    role: str
    operator_id: str | None = None
    outlet_id: str | None = None
    kiosk_id: str | None = None  # the enrolled kiosk that proved this request (operators.kiosks), if any


SYSTEM = Actor(None, "system", "system")


class Services:
    def __init__(self, settings: Settings, *, db: Database | None = None, keyring: Keyring | None = None,
                 live_check: LiveCheck | None = None, faces: FaceService | None = None,
                 clock: Clock = utcnow) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url)
        self._keyring = keyring
        self._keyring_stamp: tuple[float, int] | None = None
        self._cipher: FieldCipher | None = None
        self._live_check = live_check
        self._faces = faces
        self.now = clock

    @property
    def keyring(self) -> Keyring:
        """The keyring; reloaded when its file changes, so running workers pick up a rotation's new key."""
        if self._keyring is not None and self._keyring_stamp is None:
            return self._keyring  # given by the caller (tests) or by REALNAME_KEYRING: fixed
        stamp = _stamp(self.settings.keyring_file)
        if self._keyring is None or stamp != self._keyring_stamp:
            self._keyring = Keyring.load(self.settings.keyring_file, os.environ)
            self._keyring_stamp = None if os.environ.get(KEYRING_ENV, "").strip() else stamp
            self._cipher = FieldCipher(self._keyring)
        return self._keyring

    @property
    def cipher(self) -> FieldCipher:
        ring = self.keyring
        if self._cipher is None or self._cipher.keyring is not ring:
            self._cipher = FieldCipher(ring)
        return self._cipher

    @cached_property
    def faces(self) -> FaceService:
        return self._faces or FaceService(self.settings)

    @cached_property
    def live_check(self) -> LiveCheck:
        if self._live_check is None and self.settings.fixed_live_check:  # load tests: no faces (test mode only)
            self._live_check = FixedLiveCheck(self.settings.fixed_live_check)
        return self._live_check or FaceLiveCheck(self.faces)

    @cached_property
    def signer(self) -> ChallengeSigner:
        # Derived from the index key, which every worker shares and rotation never changes; a separate purpose
        # string keeps the signing key distinct from the index key itself.
        key = hmac.new(self.keyring.index_key, b"realname challenge signing v1", hashlib.sha256).digest()
        return ChallengeSigner(key, ttl_seconds=self.settings.challenge_seconds)
