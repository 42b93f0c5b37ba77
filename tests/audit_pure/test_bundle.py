"""Export bundles: writer, streaming verifier, and every kind of tampering it must catch."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from service.audit import bundle as bundle_module
from service.audit import merkle
from service.audit.bundle import BundleEvent, BundleWriter, VerifyReport, bundle_lines, verify_bundle, write_bundle
from service.audit.bundle import lines as bundle_lines_module
from service.audit.bundle import verify as bundle_verify_module
from service.audit.checkpoint import Checkpoint, CheckpointError, make_vkey, sign
from service.audit.verify_cli import main as cli_main
from tests.audit_pure.synthetic import ORIGIN, SyntheticLog, dump, edit_event, event_index, make_event, parse
from tests.audit_pure.synthetic import canonical as canonical_of

N = 45


@pytest.fixture(scope="module")
def log() -> SyntheticLog:
    return SyntheticLog.of_size(N)


def codes(report: VerifyReport) -> set[tuple[int | None, str]]:
    return {(p.seq, p.code) for p in report.problems}


def located(report: VerifyReport) -> set[int]:
    """The seqs the report pins a problem on."""
    return {p.seq for p in report.problems if p.seq is not None}


def check(log: SyntheticLog, lines: list[str], trusted: str | None = None) -> VerifyReport:
    return verify_bundle(lines, log.vkey, trusted)


def reason(value: str) -> Callable[[dict], None]:
    return lambda document: document.update(reason=value)


# ------------------------------------------------------------------ clean bundles


def test_clean_bundle_verifies(log: SyntheticLog) -> None:
    lines = log.bundle(checkpoint_sizes=(1, 16, 30, N))
    report = check(log, lines, log.checkpoint(20))
    assert report.ok, report.problems
    assert report.events == N and report.head is not None and report.head.size == N
    assert report.summary().startswith(f"OK: {N} events")


def test_bundle_as_bytes_and_with_a_trailing_blank_line(log: SyntheticLog) -> None:
    data = "\n".join(log.bundle()).encode() + b"\n\n"
    report = verify_bundle(io.BytesIO(data), log.vkey, None)
    assert report.ok, report.problems


@pytest.mark.parametrize("chunk", [64, 1000, 1 << 20])
def test_files_are_read_in_blocks_with_the_same_verdicts(
    monkeypatch: pytest.MonkeyPatch, log: SyntheticLog, chunk: int
) -> None:
    monkeypatch.setattr(bundle_lines_module, "_CHUNK", chunk)
    lines = edit_event(log.bundle(), 30, reason("x"))
    lines[20:20] = ["", "{garbage", ""]
    del lines[event_index(lines, 12)]
    expected = [str(p) for p in verify_bundle(lines, log.vkey, None).problems]
    assert expected[1] == "seq 12: missing_event: event 12 is missing"
    assert expected[0].startswith("seq -: bad_line: line 21: JSON is malformed")
    for data in ["\n".join(lines), "\n".join(lines) + "\n", "\r\n".join(lines) + "\r\n\n\n"]:
        got = [str(p) for p in verify_bundle(io.BytesIO(data.encode()), log.vkey, None).problems]
        assert got == expected
    clean = "\n".join(log.bundle()).encode()
    assert verify_bundle(io.BytesIO(clean), log.vkey, None).ok


def test_line_format(log: SyntheticLog) -> None:
    lines = log.bundle(10, 20, checkpoint_sizes=(5, N), consistency_from=(3,))
    kinds = [parse(line)["type"] for line in lines]
    assert (
        kinds
        == ["header", "checkpoint", "checkpoint", "consistency", "consistency", "consistency", "prefix"]
        + ["event"] * 10
    )
    header = parse(lines[0])
    assert header == {
        "type": "header",
        "format": "schoolgate-audit-bundle/1",
        "origin": ORIGIN,
        "from": 10,
        "to": 20,
        "public_key": log.vkey,
    }
    event = parse(lines[-1])
    assert event["seq"] == 19 and event["canonical"].encode() == log.canonicals[19]
    assert event["nodes"] == [h.hex() for h in log.nodes_for(19)]
    assert parse(lines[6]) == {
        "type": "prefix",
        "size": 10,
        "nodes": [log.store[r].hex() for r in merkle.root_nodes(10)],
    }


def test_writer_computes_nodes_when_not_given(log: SyntheticLog) -> None:
    common = dict(origin=ORIGIN, public_key=log.vkey, start=8, end=20, checkpoints=[log.checkpoint(20)],
                  prefix=[log.store[r] for r in merkle.root_nodes(8)])  # fmt: skip
    given_nodes = list(
        bundle_lines(**common, events=[BundleEvent(s, log.canonicals[s], log.nodes_for(s)) for s in range(8, 20)])
    )
    computed = list(bundle_lines(**common, events=[(s, log.canonicals[s]) for s in range(8, 20)]))
    assert given_nodes == computed
    with pytest.raises(ValueError):
        list(bundle_lines(**common, events=[(s, log.canonicals[s]) for s in range(9, 20)]))
    text = io.StringIO()
    write_bundle(text, **common, events=[(s, log.canonicals[s]) for s in range(8, 20)])
    assert text.getvalue().encode() == b"".join(computed)


@pytest.mark.parametrize(
    ("start", "end", "sizes"),
    [(0, 0, (0,)), (0, 1, (1,)), (17, 33, (33,)), (17, 33, (10, 45)), (32, 45, (45,)), (45, 45, (45,))],
)
def test_partial_bundles_verify(log: SyntheticLog, start: int, end: int, sizes: tuple[int, ...]) -> None:
    lines = log.bundle(start, end, checkpoint_sizes=sizes, consistency_from=(12,))
    assert check(log, lines).ok, check(log, lines).problems
    report = check(log, lines, log.checkpoint(12))
    if max(sizes) >= 12:
        assert report.ok, report.problems
    else:
        assert codes(report) == {(max(sizes), "log_truncated")}


def test_exact_bytes_are_hashed_whatever_characters_the_text_holds() -> None:
    texts = [
        canonical_of({"seq": 0, "note": "line\u2028separator\u2029and\x85next"}),
        canonical_of({"seq": 1, "note": '引号"与\\反斜杠\n换行\t😀'}),
        b'{"seq":2,  "spaced" : true}',  # not canonical, but the bytes are what is hashed
    ]
    log = SyntheticLog(texts)
    lines = log.bundle()
    assert len("\n".join(lines).splitlines()) == len(lines)
    assert [parse(line)["canonical"].encode() for line in lines[2:]] == texts
    assert check(log, lines).ok


def redacted_bundle(log: SyntheticLog, hidden: set[int], *, stored_nodes: bool = True) -> list[str]:
    out = io.BytesIO()
    events = [
        BundleEvent(s, None if s in hidden else log.canonicals[s],
                    log.nodes_for(s) if stored_nodes else None,
                    merkle.leaf_hash(log.canonicals[s]))
        for s in range(len(log.canonicals))
    ]  # fmt: skip
    write_bundle(out, origin=ORIGIN, public_key=log.vkey, start=0, end=len(log.canonicals),
                 checkpoints=[log.checkpoint(len(log.canonicals))], events=events)  # fmt: skip
    return out.getvalue().decode().splitlines()


def test_redacted_events_keep_the_bundle_verifiable(log: SyntheticLog) -> None:
    hidden = {0, 7, 8, 31, N - 1}
    for stored in (True, False):
        lines = redacted_bundle(log, hidden, stored_nodes=stored)
        for seq in hidden:
            obj = parse(lines[event_index(lines, seq)])
            assert "canonical" not in obj and obj["leaf"] == merkle.leaf_hash(log.canonicals[seq]).hex()
        report = check(log, lines)
        assert report.ok, report.problems
        assert report.redacted == len(hidden) and "redacted" in report.summary()
        assert any("redacted" in w for w in report.warnings)


def test_altered_redacted_leaf_is_located(log: SyntheticLog) -> None:
    lines = redacted_bundle(log, {9})
    i = event_index(lines, 9)
    obj = parse(lines[i])
    obj["leaf"] = merkle.leaf_hash(b"something else").hex()
    lines[i] = dump(obj)
    assert located(check(log, lines)) == {9}
    del obj["leaf"]
    lines[i] = dump(obj)
    assert (9, "bad_line") in codes(check(log, lines))


def test_writer_rejects_a_redacted_event_without_hashes(log: SyntheticLog) -> None:
    with pytest.raises(ValueError):
        list(bundle_lines(origin=ORIGIN, public_key=log.vkey, start=0, end=1, checkpoints=[log.checkpoint(1)],
                          events=[BundleEvent(0, None)]))  # fmt: skip


def test_writer_works_one_event_at_a_time(log: SyntheticLog) -> None:
    writer = BundleWriter(origin=ORIGIN, public_key=log.vkey, start=5, end=9, checkpoints=[log.checkpoint(9)],
                          prefix=[log.store[r] for r in merkle.root_nodes(5)])  # fmt: skip
    lines = writer.preamble() + [writer.event((s, log.canonicals[s])) for s in range(5, 8)]
    with pytest.raises(ValueError):
        writer.finish()
    lines.append(writer.event(BundleEvent(8, log.canonicals[8])))
    writer.finish()
    assert check(log, [line.decode() for line in lines]).ok
    assert b"".join(lines).decode().splitlines() == log.bundle(5, 9)


def test_events_without_seq_field_verify() -> None:
    log = SyntheticLog.of_size(20, with_seq=False)
    assert check(log, log.bundle()).ok


# ------------------------------------------------------------------ tampering


@given(st.integers(0, N - 1))
@settings(max_examples=15, deadline=None, database=None)
def test_edited_event_is_located(seq: int) -> None:
    log = _shared_log()
    lines = edit_event(log.bundle(checkpoint_sizes=(20, N)), seq, reason("改过的"))
    report = check(log, lines)
    assert not report.ok
    assert (seq, "event_modified") in codes(report)
    assert located(report) == {seq}


def test_edit_is_located_from_any_kind_of_input(log: SyntheticLog) -> None:
    lines = edit_event(log.bundle(), 21, reason("x"))
    data = ("\n".join(lines) + "\n").encode()
    inputs = [lines, tuple(lines), iter(lines), (line for line in lines), io.BytesIO(data),
              iter(data.splitlines(keepends=True)), data, data.decode()]  # fmt: skip
    expected = [str(p) for p in check(log, lines).problems]
    assert "seq 21: event_modified: event 21 differs from the event the log signed" in expected
    for source in inputs:
        assert [str(p) for p in verify_bundle(source, log.vkey, None).problems] == expected


def test_edited_event_in_partial_bundle_is_located(log: SyntheticLog) -> None:
    for sizes in [(40,), (N,)]:  # head == end, and head beyond end (consistency proof)
        report = check(log, edit_event(log.bundle(21, 40, checkpoint_sizes=sizes), 33, reason("x")))
        assert located(report) == {33} and (33, "event_modified") in codes(report)


def test_edited_event_with_rewritten_hashes_is_narrowed_to_a_subtree(log: SyntheticLog) -> None:
    lines = edit_event(log.bundle(), 13, reason("x"))
    i = event_index(lines, 13)
    obj = parse(lines[i])
    obj["nodes"][0] = merkle.leaf_hash(obj["canonical"].encode()).hex()  # the tamperer fixes the leaf hash too
    lines[i] = dump(obj)
    report = check(log, lines)
    assert (12, "events_modified_in_range") in codes(report)
    assert "12..13" in str(report.problems)


def test_edited_event_with_all_hashes_rewritten_is_still_detected(log: SyntheticLog) -> None:
    forged = SyntheticLog(
        [*log.canonicals[:13], make_event(13).replace(b"approved", b"rejected"), *log.canonicals[14:]], log.key
    )
    lines = log.bundle()
    lines[event_index(lines, 13) :] = forged.bundle()[event_index(lines, 13) :]  # events and hashes, not checkpoint
    report = check(log, lines)
    assert ("root_mismatch") in {p.code for p in report.problems}


@given(st.integers(0, N - 1))
@settings(max_examples=10, deadline=None, database=None)
def test_deleted_event_is_reported(seq: int) -> None:
    log = _shared_log()
    lines = log.bundle()
    del lines[event_index(lines, seq)]
    report = check(log, lines)
    assert codes(report) == {(seq, "missing_event")}


def test_deleted_run_of_events(log: SyntheticLog) -> None:
    lines = log.bundle()
    i = event_index(lines, 10)
    del lines[i : i + 5]
    report = check(log, lines)
    assert codes(report) == {(10, "missing_event")}
    assert "10..14" in report.problems[0].message


def test_deleted_event_beyond_the_reorder_window(monkeypatch: pytest.MonkeyPatch, log: SyntheticLog) -> None:
    monkeypatch.setattr(bundle_verify_module, "REORDER_WINDOW", 4)
    lines = log.bundle()
    moved = lines.pop(event_index(lines, 3))
    assert codes(check(log, lines)) == {(3, "missing_event")}
    lines.insert(event_index(lines, 20), moved)  # far too late: reported missing, then out of order
    assert codes(check(log, lines)) == {(3, "missing_event"), (3, "out_of_order_event")}
    lines = log.bundle()
    lines.insert(event_index(lines, 6), lines.pop(event_index(lines, 3)))  # within the window
    assert codes(check(log, lines)) == {(3, "out_of_order_event")}


def test_inserted_duplicate_event(log: SyntheticLog) -> None:
    lines = log.bundle()
    i = event_index(lines, 7)
    forged = edit_event([lines[i]], 7, reason("inserted"))[0]
    report = check(log, [*lines[: i + 1], forged, *lines[i + 1 :]])
    assert codes(report) == {(7, "duplicate_event")}
    # the forged copy first: it is taken into the tree, so the root check locates it too
    report = check(log, [*lines[:i], forged, *lines[i:]])
    assert located(report) == {7}
    assert {(7, "duplicate_event"), (7, "event_modified")} <= codes(report)


def test_inserted_event_shifting_the_rest(log: SyntheticLog) -> None:
    lines = log.bundle()
    i = event_index(lines, 20)
    shifted = []
    for line in lines[i:]:
        obj = parse(line)
        obj["seq"] += 1
        shifted.append(dump(obj))
    forged = edit_event([lines[i]], 20, reason("inserted"))[0]
    report = check(log, [*lines[:i], forged, *shifted])
    assert min(located(report)) == 20
    assert (20, "event_hash_mismatch") in codes(report)
    assert (N, "event_out_of_range") in codes(report)
    assert (21, "seq_mismatch") in codes(report)


def test_appended_event_beyond_the_checkpoint(log: SyntheticLog) -> None:
    extra = dump({"type": "event", "seq": N, "canonical": make_event(N).decode(), "nodes": []})
    assert codes(check(log, [*log.bundle(), extra])) == {(N, "event_out_of_range")}


@given(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)).filter(lambda p: p[0] < p[1]))
@settings(max_examples=10, deadline=None, database=None)
def test_swapped_lines_are_reported(pair: tuple[int, int]) -> None:
    a, b = pair
    log = _shared_log()
    lines = log.bundle()
    i, j = event_index(lines, a), event_index(lines, b)
    lines[i], lines[j] = lines[j], lines[i]
    assert codes(check(log, lines)) == {(a, "out_of_order_event")}


@given(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)).filter(lambda p: p[0] < p[1]))
@settings(max_examples=10, deadline=None, database=None)
def test_swapped_event_contents_are_located(pair: tuple[int, int]) -> None:
    a, b = pair
    log = _shared_log(with_seq=False)
    lines = log.bundle()
    i, j = event_index(lines, a), event_index(lines, b)
    oi, oj = parse(lines[i]), parse(lines[j])
    oi["canonical"], oj["canonical"] = oj["canonical"], oi["canonical"]
    lines[i], lines[j] = dump(oi), dump(oj)
    report = check(log, lines)
    assert located(report) == {a, b}
    assert {(a, "event_modified"), (b, "event_modified")} <= codes(report)


def test_swapped_contents_with_seq_fields_also_flag_the_seq(log: SyntheticLog) -> None:
    lines = log.bundle()
    i, j = event_index(lines, 4), event_index(lines, 9)
    oi, oj = parse(lines[i]), parse(lines[j])
    oi["canonical"], oj["canonical"] = oj["canonical"], oi["canonical"]
    lines[i], lines[j] = dump(oi), dump(oj)
    report = check(log, lines)
    assert {(4, "seq_mismatch"), (9, "seq_mismatch"), (4, "event_modified"), (9, "event_modified")} <= codes(report)


def test_truncated_tail_is_caught_by_the_trusted_checkpoint(log: SyntheticLog) -> None:
    trusted = log.checkpoint(N)
    old = log.bundle(end=30)  # cut back to an older, genuinely signed state
    assert check(log, old).ok  # on its own, indistinguishable from the log at size 30
    report = check(log, old, trusted)
    assert codes(report) == {(30, "log_truncated")}


def test_truncated_file_is_caught_without_trusted_checkpoint(log: SyntheticLog) -> None:
    report = check(log, log.bundle()[:-6])
    assert codes(report) == {(N - 6, "missing_event")}


def test_rewritten_suffix_is_caught_by_the_trusted_checkpoint(log: SyntheticLog) -> None:
    # an insider with the key rewrites events from seq 25 on and re-signs everything
    rewritten = SyntheticLog(
        [*log.canonicals[:25], *(e.replace(b"approved", b"rejected") for e in log.canonicals[25:])], log.key
    )
    lines = rewritten.bundle(checkpoint_sizes=(10, N))
    assert check(log, lines).ok  # self-consistent
    assert check(log, lines, log.checkpoint(20)).ok  # the history before 25 is intact
    report = check(log, lines, log.checkpoint(30))
    assert codes(report) == {(None, "trusted_checkpoint_mismatch")}
    report = check(log, lines, log.checkpoint(10))  # same size as a bundle checkpoint: still fine
    assert report.ok
    # a partial bundle starting after the trusted size needs the consistency proof, which fails
    report = check(log, rewritten.bundle(35, N, consistency_from=(30,)), log.checkpoint(30))
    assert codes(report) == {(None, "trusted_checkpoint_mismatch")}


def test_trusted_checkpoint_equal_size_different_root(log: SyntheticLog) -> None:
    rewritten = SyntheticLog([*log.canonicals[:-1], make_event(N - 1).replace(b"approved", b"rejected")], log.key)
    report = check(log, rewritten.bundle(), log.checkpoint(N))
    assert (None, "trusted_checkpoint_mismatch") in codes(report)


def test_checkpoint_with_bad_signature(log: SyntheticLog) -> None:
    lines = log.bundle(checkpoint_sizes=(20, N))
    head = parse(lines[2])
    head["note"] = head["note"].replace(f"\n{N}\n", f"\n{N + 1}\n")
    lines[2] = dump(head)
    report = check(log, lines)
    assert (None, "bad_checkpoint_signature") in codes(report)
    assert (20, "events_not_covered") in codes(report)  # only the size-20 checkpoint is left


def test_checkpoint_signed_by_another_key(log: SyntheticLog) -> None:
    impostor = SyntheticLog(log.canonicals, Ed25519PrivateKey.generate())
    report = check(log, impostor.bundle())
    assert {(None, "bad_checkpoint_signature"), (None, "no_valid_checkpoint")} <= codes(report)
    # verifying with the key the bundle itself names "works", with a warning
    report = verify_bundle(impostor.bundle(), None, None)
    assert report.ok and any("public key the bundle itself carries" in w for w in report.warnings)


def test_forked_checkpoints(log: SyntheticLog) -> None:
    other = sign(Checkpoint(ORIGIN, N, merkle.leaf_hash(b"fork")), log.key)
    lines = log.bundle()
    lines.insert(1, dump({"type": "checkpoint", "note": other}))
    assert (None, "checkpoint_fork") in codes(check(log, lines))


def test_missing_and_invalid_consistency_proofs(log: SyntheticLog) -> None:
    lines = log.bundle(20, 30, checkpoint_sizes=(10, N))
    assert check(log, lines).ok
    without = [line for line in lines if parse(line)["type"] != "consistency"]
    assert {p.code for p in check(log, without).problems} == {"missing_consistency_proof"}
    broken = []
    for line in lines:
        obj = parse(line)
        if obj["type"] == "consistency" and obj["first"] == 10:
            obj["proof"][0] = merkle.leaf_hash(b"x").hex()
        broken.append(dump(obj))
    assert {p.code for p in check(log, broken).problems} == {"consistency_proof_invalid"}


def test_tampered_prefix(log: SyntheticLog) -> None:
    lines = log.bundle(12, N)
    i = [parse(x)["type"] for x in lines].index("prefix")
    obj = parse(lines[i])
    obj["nodes"][0] = merkle.leaf_hash(b"x").hex()
    lines[i] = dump(obj)
    assert "root_mismatch" in {p.code for p in check(log, lines).problems}
    del lines[i]
    assert (None, "bad_prefix") in codes(check(log, lines))


def test_event_text_must_be_a_json_object_with_matching_seq(log: SyntheticLog) -> None:
    lines = log.bundle()
    i = event_index(lines, 5)
    obj = parse(lines[i])
    obj["canonical"] = obj["canonical"][:-1]
    lines[i] = dump(obj)
    j = event_index(lines, 6)
    obj = parse(lines[j])
    obj["canonical"] = obj["canonical"].replace('"seq":6', '"seq":"6"')
    lines[j] = dump(obj)
    report = check(log, lines)
    assert {(5, "bad_event_json"), (6, "seq_mismatch"), (5, "event_modified"), (6, "event_modified")} <= codes(report)


def test_garbage_lines(log: SyntheticLog) -> None:
    lines = log.bundle()
    lines.insert(20, "{not json")
    lines.insert(25, dump({"type": "prefix", "size": 0, "nodes": []}))
    report = check(log, lines)
    assert {p.code for p in report.problems} == {"bad_line"}
    assert verify_bundle([], log.vkey, None).problems[0].code == "bad_header"
    assert verify_bundle(lines[1:], log.vkey, None).problems[0].code == "bad_header"
    wrong = parse(lines[0])
    wrong["format"] = "other/9"
    assert verify_bundle([dump(wrong), *lines[1:]], log.vkey, None).problems[0].code == "bad_header"
    with pytest.raises(CheckpointError):
        verify_bundle(lines, "not a key", None)


def test_problem_lists_are_capped() -> None:
    big = SyntheticLog.of_size(150)
    lines = big.bundle()
    out = []
    for line in lines:
        obj = parse(line)
        if obj["type"] == "event":
            obj["canonical"] = obj["canonical"].replace(f'"seq":{obj["seq"]}', '"seq":-1')
        out.append(dump(obj))
    report = check(big, out)
    assert sum(p.code == "seq_mismatch" for p in report.problems) == bundle_module.MAX_PROBLEMS_PER_CODE
    assert report.problems[-1].code == "too_many_problems"


# ------------------------------------------------------------------------- CLI


def write_file(path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_cli_ok(tmp_path, log: SyntheticLog, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = write_file(tmp_path / "b.ndjson", log.bundle())
    key = tmp_path / "key.vkey"
    key.write_text(log.vkey + "\n")
    trusted = tmp_path / "cp.txt"
    trusted.write_text(log.checkpoint(30))
    assert cli_main([bundle, "--public-key", str(key), "--trusted-checkpoint", str(trusted)]) == 0
    out = capsys.readouterr()
    assert out.out.strip().splitlines()[-1].startswith(f"OK: {N} events")
    gz = tmp_path / "b.ndjson.gz"
    gz.write_bytes(gzip.compress((tmp_path / "b.ndjson").read_bytes()))
    assert cli_main([str(gz), "--public-key", str(key)]) == 0


def test_cli_reports_problems(tmp_path, log: SyntheticLog, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = write_file(tmp_path / "b.ndjson", edit_event(log.bundle(), 11, reason("x")))
    key = tmp_path / "key.vkey"
    key.write_text(log.vkey)
    assert cli_main([bundle, "--public-key", str(key)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "seq 11: event_modified: event 11 differs from the event the log signed" in out
    assert any(line.startswith("seq -: root_mismatch: ") for line in out)
    assert out[-1].startswith("FAILED: ")


def test_cli_usage_errors(tmp_path, log: SyntheticLog, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = write_file(tmp_path / "b.ndjson", log.bundle())
    assert cli_main([]) == 2
    assert cli_main([str(tmp_path / "missing.ndjson")]) == 2
    assert cli_main([bundle, "--public-key", str(tmp_path / "missing.vkey")]) == 2
    bad_key = tmp_path / "bad.vkey"
    bad_key.write_text("nonsense")
    assert cli_main([bundle, "--public-key", str(bad_key)]) == 2
    assert cli_main([bundle, "--bogus"]) == 2
    capsys.readouterr()


# ---------------------------------------------------------------------- helpers

_LOGS: dict[bool, SyntheticLog] = {}


def _shared_log(with_seq: bool = True) -> SyntheticLog:
    """One log per flavour for the property tests (key generation is not the point)."""
    if with_seq not in _LOGS:
        _LOGS[with_seq] = SyntheticLog.of_size(N, with_seq=with_seq)
    return _LOGS[with_seq]


def test_vkey_header_matches_key(log: SyntheticLog) -> None:
    assert parse(log.bundle()[0])["public_key"] == make_vkey(ORIGIN, log.key.public_key())


def test_json_dump_of_lines_is_single_line(log: SyntheticLog) -> None:
    for line in log.bundle():
        assert "\n" not in line and json.loads(line)
