"""Encryption at rest for connection credentials (Fernet, with MultiFernet for key rotation).

Keys come from ``HUB_SECRET_KEY`` (comma-separated, newest first) or, in the embedded default, from a
key file beside the database that is generated on first use with 0600 permissions (one key per line,
newest first). A connection's secrets are stored as one Fernet token of a small JSON object, so the
database never holds a credential in clear text and a wrong key fails loudly instead of returning
garbage.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from integration_hub.settings import HubSettings


class SecretKeyError(RuntimeError):
    """The configured key cannot be used, or cannot decrypt what is stored. Never holds key material."""


def _parse_keys(raw_keys: Sequence[str], source: str) -> list[Fernet]:
    if not raw_keys:
        raise SecretKeyError(f"no encryption key in {source}")
    fernets = []
    for index, raw in enumerate(raw_keys, start=1):
        try:
            fernets.append(Fernet(raw.strip().encode()))
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"key #{index} in {source} is not a valid Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return fernets


def read_key_file(path: Path) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise SecretKeyError(f"cannot read key file {path}: {exc.strerror}") from None
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Write ``keys`` atomically with 0600 permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# integration-hub Fernet keys, newest first. Keep this file secret and backed up.\n")
        handle.write("\n".join(keys) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class SecretBox:
    """Encrypts and decrypts secret bags; the first key encrypts, every key decrypts."""

    def __init__(self, keys: Sequence[str], source: str = "the configured keys") -> None:
        self._fernet = MultiFernet(_parse_keys(keys, source))
        self.source = source

    @classmethod
    def from_settings(cls, settings: HubSettings, *, create: bool = True) -> SecretBox:
        if settings.secret_keys:
            return cls(settings.secret_keys, "HUB_SECRET_KEY")
        path = settings.key_file
        if not path.exists():
            if not create:
                raise SecretKeyError(f"key file {path} does not exist")
            write_key_file(path, [Fernet.generate_key().decode()])
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SecretKeyError(f"key file {path} is readable by others (mode {mode:o}); run chmod 600 on it")
        return cls(read_key_file(path), f"key file {path}")

    def encrypt(self, secrets: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, str]:
        try:
            data = self._fernet.decrypt(token.encode())
        except InvalidToken:
            raise SecretKeyError(
                f"stored credentials cannot be decrypted with {self.source} (wrong HUB_SECRET_KEY or key file?)"
            ) from None
        return json.loads(data)

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the newest key (it must decrypt under one of the keys)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"stored credentials cannot be decrypted with {self.source}; refusing to rotate"
            ) from None
