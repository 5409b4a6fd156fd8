"""``integration-hub rotate-key``: re-encrypt every stored credential under a new key."""

from __future__ import annotations

from integration_hub.cli.context import AS_OPTION, console, handle_errors, performer, service


@handle_errors
def rotate_key(as_: str | None = AS_OPTION) -> None:
    """Rotate the encryption key.

    With the key file (embedded default) a new key is generated, every credential is re-encrypted and
    the old key is retired. With HUB_SECRET_KEY, put the new key first ("NEW,OLD"), run this, then drop
    the old key from the variable.
    """
    svc = service()
    count = svc.rotate_key(by=performer(as_))
    where = "HUB_SECRET_KEY's first key" if not svc.store.settings.uses_key_file else "a new key in the key file"
    console.print(f"re-encrypted {count} credential set(s) under {where}", markup=False, highlight=False)
