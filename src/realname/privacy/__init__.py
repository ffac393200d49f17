"""Field-level encryption for personal data at rest, and blind indexes for looking it up.

Names, document numbers and face templates are stored as AES-256-GCM tokens (:mod:`.fields`) under keys from a
:class:`~realname.privacy.keyring.Keyring` kept outside the database, so a copied database file alone reveals
nothing. Exact-match lookups (by document number) go through a keyed HMAC blind index instead of the plaintext.
"""
