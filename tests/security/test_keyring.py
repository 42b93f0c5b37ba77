"""The personal-data keyring: encryption with key ids, rotation, blind index, key file."""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import stat

import pytest

from service.security.keyring import KEY_FILE, Keyring, KeyringError, load_keyring, new_key_document

NUMBER = b"11010519491231002X"
PURPOSE = b"person.id_number"


def test_round_trip_and_the_ciphertext_names_its_key(tmp_path):
    keyring = load_keyring(tmp_path)
    token = keyring.encrypt(NUMBER, PURPOSE)
    assert NUMBER not in token
    assert Keyring.key_id_of(token) == keyring.current_key_id == "k1"
    assert keyring.decrypt(token, PURPOSE) == NUMBER
    assert keyring.encrypt(NUMBER, PURPOSE) != token  # a fresh nonce every time


def test_rotation_keeps_old_ciphertexts_readable():
    old = new_key_document("k1")
    before = Keyring.from_document(old)
    token = before.encrypt(NUMBER, PURPOSE)
    rotated = dict(old, current="k2", keys=dict(old["keys"], k2=new_key_document("k2")["keys"]["k2"]))
    after = Keyring.from_document(rotated)
    fresh = after.encrypt(NUMBER, PURPOSE)
    assert Keyring.key_id_of(fresh) == "k2"
    assert after.decrypt(token, PURPOSE) == after.decrypt(fresh, PURPOSE) == NUMBER
    assert after.blind_index("x") == before.blind_index("x")  # the index key is separate


def test_wrong_purpose_altered_bytes_and_unknown_keys_fail():
    keyring = Keyring.from_document(new_key_document())
    token = keyring.encrypt(NUMBER, PURPOSE)
    with pytest.raises(KeyringError):
        keyring.decrypt(token, b"person.phone")
    with pytest.raises(KeyringError):
        keyring.decrypt(token[:-1] + bytes([token[-1] ^ 1]), PURPOSE)
    with pytest.raises(KeyringError, match="not in the keyring"):
        Keyring.from_document(new_key_document("other")).decrypt(token, PURPOSE)


def test_blind_index_is_hmac_sha256_of_the_value():
    document = new_key_document()
    keyring = Keyring.from_document(document)
    import base64

    key = base64.b64decode(document["index_key"])
    assert keyring.blind_index("11010519491231002X") == hmac.new(key, NUMBER, hashlib.sha256).hexdigest()
    assert keyring.blind_index("11010519491231002X") != Keyring.from_document(new_key_document()).blind_index(
        "11010519491231002X"
    )


def test_key_file_is_created_once_with_owner_only_permissions(tmp_path):
    first = load_keyring(tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    second = load_keyring(tmp_path)
    assert second.blind_index("a") == first.blind_index("a")
    assert [p.name for p in path.parent.iterdir()] == ["personal-data.json"]  # no temporary left


def _load_in_child(data_dir, queue):
    queue.put(load_keyring(data_dir).blind_index("same"))


def test_concurrent_first_start_agrees_on_one_key_set(tmp_path):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [context.Process(target=_load_in_child, args=(tmp_path, queue)) for _ in range(6)]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    results = {queue.get(timeout=5) for _ in children}
    assert len(results) == 1
    assert results == {load_keyring(tmp_path).blind_index("same")}


def test_settings_read_the_keys_from_the_environment_and_never_show_them(tmp_path):
    from service.config import Settings

    document = json.dumps(new_key_document("env1"))
    settings = Settings.from_env({"SCHOOLGATE_PERSONAL_DATA_KEYS": document, "SCHOOLGATE_DATA_DIR": str(tmp_path)})
    assert settings.personal_data_keys == document
    assert document not in repr(settings)


def test_configured_keys_override_the_file(tmp_path):
    document = new_key_document("env1")
    keyring = load_keyring(tmp_path, configured=json.dumps(document))
    assert keyring.current_key_id == "env1"
    assert not (tmp_path / KEY_FILE).exists()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"current": "k1"}',
        json.dumps(dict(new_key_document(), current="missing")),
        json.dumps(dict(new_key_document(), keys={"k1": "c2hvcnQ="})),
    ],
)
def test_bad_key_documents_are_refused_without_echoing_keys(text):
    with pytest.raises(KeyringError) as info:
        Keyring.from_json(text)
    assert "c2hvcnQ" not in str(info.value)


def test_repr_shows_no_key_material():
    document = new_key_document()
    text = repr(Keyring.from_document(document))
    assert document["keys"]["k1"] not in text and document["index_key"] not in text
