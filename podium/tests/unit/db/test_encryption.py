"""Secrets at rest: Fernet, key rotation, nothing readable in the file."""

import fixtures
import sqlalchemy as sa

from podium.cmd import dbsync
from podium.common import exceptions
from podium.db import api as db_api
from podium.db import encryption, models
from podium.db import engine as db_engine
from podium.tests import base
from podium.tests.unit.common import test_masking

INFO = test_masking.SECRETS_EVERY_SHAPE
SECRETS = ('pw-top-level', 'pw-nested', 'pw-in-list', 'kg-value-1',
           'token-value-1', 'snmp-auth-1', 'snmp-priv-1', 'community-1')


def _stored(node_id: int) -> str:
    """driver_info as the database file holds it, bypassing decryption."""
    with db_engine.get_engine().connect() as conn:
        return str(conn.execute(sa.text(
            'SELECT driver_info FROM nodes WHERE id = :id'),
            {'id': node_id}).scalar_one())


class EncryptionTest(base.DbTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.key1 = encryption.generate_key()
        self.key2 = encryption.generate_key()

    def create(self) -> models.Node:
        return db_api.create_node({'driver': 'fake-hardware',
                                   'driver_info': INFO})

    def test_off_by_default(self) -> None:
        node = self.create()
        self.assertIn('pw-top-level', _stored(node.id))

    def test_encrypted_at_rest_and_read_back(self) -> None:
        self.config(secrets_encryption_keys=[self.key1], group='database')
        node = self.create()
        stored = _stored(node.id)
        for secret in SECRETS:
            self.assertNotIn(secret, stored)
        self.assertIn('redfish_address', stored)
        self.assertIn('10.0.0.1', stored)  # only secrets are encrypted
        self.assertEqual(INFO, db_api.get_node(node.id).driver_info)
        [row] = db_api.list_node_rows(('id', 'driver_info'))
        self.assertEqual(INFO, row.driver_info)

    def test_rotation(self) -> None:
        self.config(secrets_encryption_keys=[self.key1], group='database')
        node = self.create()
        # A new key first: old tokens still open, rotation re-encrypts.
        self.config(secrets_encryption_keys=[self.key2, self.key1],
                    group='database')
        self.assertEqual(INFO, db_api.get_node(node.id).driver_info)
        self.assertEqual(1, encryption.rotate(db_engine.session_scope,
                                              models.Node.__table__))
        self.config(secrets_encryption_keys=[self.key2], group='database')
        self.assertEqual(INFO, db_api.get_node(node.id).driver_info)

    def test_plain_text_encrypted_by_rotation(self) -> None:
        node = self.create()
        self.config(secrets_encryption_keys=[self.key1], group='database')
        self.assertEqual(INFO, db_api.get_node(node.id).driver_info)
        encryption.rotate(db_engine.session_scope, models.Node.__table__)
        self.assertNotIn('pw-top-level', _stored(node.id))

    def test_unknown_key_leaves_the_token(self) -> None:
        self.config(secrets_encryption_keys=[self.key1], group='database')
        node = self.create()
        self.config(secrets_encryption_keys=[self.key2], group='database')
        info = db_api.get_node(node.id).driver_info
        self.assertTrue(info['redfish_password'].startswith('fernet:'))

    def test_bad_key_and_no_key(self) -> None:
        self.config(secrets_encryption_keys=['not-a-key'], group='database')
        self.assertRaises(exceptions.ConfigInvalid, encryption.current_box)
        self.config(secrets_encryption_keys=[], group='database')
        self.assertRaises(exceptions.ConfigInvalid, encryption.rotate,
                          db_engine.session_scope, models.Node.__table__)

    def test_dbsync_rotate_secrets(self) -> None:
        node = self.create()
        self.config(secrets_encryption_keys=[self.key1], group='database')
        out = self.useFixture(fixtures.StringStream('service-stdout')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        dbsync._rotate_secrets()
        out.seek(0)
        self.assertEqual('Secrets of 1 node(s) re-encrypted with the first '
                         'key of [database] secrets_encryption_keys.\n',
                         out.read())
        self.assertNotIn('pw-top-level', _stored(node.id))
