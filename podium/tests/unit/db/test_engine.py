"""The database engine: its JSON columns."""



from podium.db import engine as db_engine
from podium.tests import base


class JsonColumnTest(base.TestCase):

    def test_values_orjson_refuses_still_read(self) -> None:
        self.assertEqual({'a': [1, 'x']},
                         db_engine._json_loads('{"a": [1, "x"]}'))
        # Written by json.dumps, refused by orjson.
        self.assertNotEqual(db_engine._json_loads('{"v": NaN}')['v'],
                            db_engine._json_loads('{"v": NaN}')['v'])
        self.assertEqual(2 ** 70, db_engine._json_loads(str(2 ** 70)))
