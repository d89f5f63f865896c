"""Secrets in ``driver_info`` encrypted at rest (Fernet).

With ``[database] secrets_encryption_keys`` set, every value under a
secret key of ``driver_info`` (as :mod:`podium.common.masking` decides,
at any depth) is stored as ``fernet:<token>``: the JSON of the value
encrypted with the first key. Reading tries every key, so keys are
rotated by putting a new one first, running ``podium-dbsync
rotate-secrets`` (which rewrites every node under the first key) and then
dropping the old one; the same command encrypts what was stored before
keys were configured. A token no configured key opens is left as it is
(masked in every output anyway) and logged.

Decryption is cached by token: power sync reads every node's
``driver_info`` every cycle and a Fernet check costs tens of
microseconds.
"""

import copy
import functools
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from cryptography import fernet
from oslo_log import log

from podium.common import exceptions, masking
from podium.conf import CONF

LOG = log.getLogger(__name__)

PREFIX = 'fernet:'
_CACHE_SIZE = 65536


class SecretBox:
    """Encrypts and decrypts secret values with a list of Fernet keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        try:
            self._fernet = fernet.MultiFernet(
                [fernet.Fernet(key.encode()) for key in keys])
        except (ValueError, TypeError) as exc:
            raise exceptions.ConfigInvalid(
                reason=f'[database] secrets_encryption_keys: a key is not '
                       f'a Fernet key (32 url-safe base64 bytes, from '
                       f'"podium-dbsync generate-secrets-key"): {exc}'
            ) from None
        self.decrypt_token = functools.lru_cache(_CACHE_SIZE)(
            self._decrypt_token)

    def encrypt_value(self, value: Any) -> str:
        token = self._fernet.encrypt(json.dumps(value).encode()).decode()
        return PREFIX + token

    def _decrypt_token(self, stored: str) -> Any:
        try:
            return json.loads(self._fernet.decrypt(
                stored[len(PREFIX):].encode()))
        except fernet.InvalidToken:
            LOG.error('A driver_info secret is encrypted with a key not '
                      'in [database] secrets_encryption_keys; it is left '
                      'encrypted and the node cannot use it.')
            return stored

    def encrypt(self, info: Any) -> Any:
        """``info`` with every secret value encrypted, at any depth."""
        return _walk(info, False, self._encrypt_leaf)

    def decrypt(self, info: Any) -> Any:
        """``info`` with every encrypted value decrypted."""
        return _walk(info, False, self._decrypt_leaf)

    def _encrypt_leaf(self, value: Any, secret: bool) -> Any:
        if not secret or (isinstance(value, str) and
                          value.startswith(PREFIX)):
            return value
        return self.encrypt_value(value)

    def _decrypt_leaf(self, value: Any, _secret: bool) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            # The cache hands out one object per token: a copy for each
            # reader of what may be mutable.
            return copy.deepcopy(self.decrypt_token(value))
        return value


def _walk(value: Any, secret: bool, leaf: Any) -> Any:
    if isinstance(value, dict):
        if secret:
            return leaf(value, True)
        return {key: _walk(item, masking.is_secret_key(key), leaf)
                for key, item in value.items()}
    if isinstance(value, list) and not secret:
        return [_walk(item, False, leaf) for item in value]
    return leaf(value, secret)


def generate_key() -> str:
    """A new random Fernet key for ``secrets_encryption_keys``."""
    return fernet.Fernet.generate_key().decode()


_boxes: dict[tuple[str, ...], SecretBox] = {}


def current_box() -> SecretBox | None:
    """The box of the configured keys; None when encryption is off."""
    keys = tuple(CONF.database.secrets_encryption_keys or ())
    if not keys:
        return None
    box = _boxes.get(keys)
    if box is None:
        _boxes.clear()  # keys changed (tests, a reload): forget old ones
        box = _boxes[keys] = SecretBox(keys)
    return box


class SecretJSON(sa.TypeDecorator[Any]):
    """A JSON column whose secret values are encrypted when keys are
    configured; every writer and reader goes through it."""

    impl = sa.JSON
    cache_ok = True

    # An empty value is left alone before the keys are looked up: the
    # lookup is the dearer part for the empty ``driver_info`` of a list.

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if not value:
            return value
        box = current_box()
        return box.encrypt(value) if box is not None else value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if not value:
            return value
        box = current_box()
        return box.decrypt(value) if box is not None else value


def rotate(session_scope: Any, node_table: Any, batch: int = 500) -> int:
    """Rewrite every node's ``driver_info`` under the first key; returns
    the nodes rewritten.

    :raises ConfigInvalid: when no key is configured.

    Batches of ``batch`` nodes, one transaction each, so a fleet of
    thousands does not hold one long write lock.
    """
    if current_box() is None:
        raise exceptions.ConfigInvalid(
            reason='[database] secrets_encryption_keys is empty: there is '
                   'no key to encrypt with')
    rewritten = 0
    last_id = 0
    while True:
        with session_scope(writer=True) as session:
            rows = session.execute(
                sa.select(node_table.c.id, node_table.c.driver_info)
                .where(node_table.c.id > last_id)
                .order_by(node_table.c.id).limit(batch)).all()
            for node_id, info in rows:
                session.execute(sa.update(node_table)
                                .where(node_table.c.id == node_id)
                                .values(driver_info=info))
        if not rows:
            return rewritten
        rewritten += len(rows)
        last_id = rows[-1][0]
