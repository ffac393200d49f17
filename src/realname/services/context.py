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

from realname.config import Settings
from realname.faces import FaceService
from realname.liveness.challenges import ChallengeSigner
from realname.privacy.fields import FieldCipher
from realname.privacy.keyring import Keyring
from realname.registry.db import Database
from realname.services.live_check import FaceLiveCheck, LiveCheck

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who is calling: a logged-in user, or the system itself (CLI jobs)."""

    user_id: str | None
    username: str
    role: str
    operator_id: str | None = None
    outlet_id: str | None = None


SYSTEM = Actor(None, "system", "system")


class Services:
    def __init__(self, settings: Settings, *, db: Database | None = None, keyring: Keyring | None = None,
                 live_check: LiveCheck | None = None, faces: FaceService | None = None,
                 clock: Clock = utcnow) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url)
        self._keyring = keyring
        self._live_check = live_check
        self._faces = faces
        self.now = clock

    @cached_property
    def keyring(self) -> Keyring:
        return self._keyring or Keyring.load(self.settings.keyring_file, os.environ)

    @cached_property
    def cipher(self) -> FieldCipher:
        return FieldCipher(self.keyring)

    @cached_property
    def faces(self) -> FaceService:
        return self._faces or FaceService(self.settings)

    @cached_property
    def live_check(self) -> LiveCheck:
        return self._live_check or FaceLiveCheck(self.faces)

    @cached_property
    def signer(self) -> ChallengeSigner:
        # Derived from the index key, which every worker shares and rotation never changes; a separate purpose
        # string keeps the signing key distinct from the index key itself.
        key = hmac.new(self.keyring.index_key, b"realname challenge signing v1", hashlib.sha256).digest()
        return ChallengeSigner(key, ttl_seconds=self.settings.challenge_seconds)
