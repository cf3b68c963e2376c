"""The strict JSON reader under every loader: each failure names the file."""
import pytest

from mpnet.errors import CheckpointError, FormatError
from mpnet.io.jsonfile import parse_json, read_json


@pytest.mark.parametrize("raw, match", [
    (b"", r"f\.json is empty; expected a JSON object"),
    (b"{not json", r"f\.json is not valid JSON: Expecting property name"),
    ('{"a": 1}'.encode("utf-16"), r"f\.json is UTF-16 text; JSON files must be UTF-8"),
    (b'{"a": "\x00"}', r"f\.json is a binary file \(it holds NUL bytes\)"),
    (b'{"a": "\xff"}', r"f\.json is not UTF-8 text \(byte 0xff on line 1\)"),
    (b'{"a": 1, "a": 2}', r"f\.json: an object names the key 'a' twice"),
    (b"[" * 100000 + b"]" * 100000, r"f\.json nests arrays or objects too deeply to read"),
])
def test_every_way_to_not_be_json_names_the_file(tmp_path, raw, match):
    (tmp_path / "f.json").write_bytes(raw)
    with pytest.raises(FormatError, match=match):
        read_json(tmp_path / "f.json")


def test_good_json_with_a_byte_order_mark_and_the_error_class(tmp_path):
    (tmp_path / "f.json").write_bytes(b'\xef\xbb\xbf{"a": [1, 2.5, null]}')
    assert read_json(tmp_path / "f.json") == {"a": [1, 2.5, None]}
    with pytest.raises(CheckpointError, match="is not valid JSON"):
        parse_json("{", "x", CheckpointError)
    with pytest.raises(FormatError, match="is a directory"):
        read_json(tmp_path)
