"""Audit export bundles: format, writer, and the streaming offline verifier.

Modules: `lines` (the line types and their decoding), `writer` (building a bundle),
`verify` (the passes of the verifier, step by step), `tree` (its streaming Merkle
tree and the localisation of tampering), `report` (what it found).

Format ``schoolgate-audit-bundle/1``
====================================

NDJSON: one JSON object per line (UTF-8, lines end in ``\\n``; blank lines are
ignored). Lines come in this order; everything before the first event line is the
*preamble*::

    {"type":"header","format":"schoolgate-audit-bundle/1","origin":O,"from":A,"to":B,"public_key":VKEY}
    {"type":"checkpoint","note":"<signed checkpoint note>"}          one or more
    {"type":"consistency","first":M,"second":H,"proof":["<hex>",...]} zero or more
    {"type":"prefix","size":A,"nodes":["<hex>",...]}                  iff A > 0
    {"type":"event","seq":S,"canonical":"<canonical JSON text>","nodes":["<hex>",...]}
    {"type":"event","seq":S,"leaf":"<hex>","nodes":["<hex>",...]}     a redacted event

* ``header``: first line. ``from``/``to`` is the half-open range ``[A, B)`` of event
  seqs the bundle carries; ``public_key`` is the log's note verifier key
  (``name+keyid+base64``), informational: an auditor passes the key they trust.
* ``checkpoint``: C2SP signed checkpoints (see `service.audit.checkpoint`) of the log
  ``origin``. The largest, the *head*, has size ``H >= B``. Every checkpoint whose
  size lies in ``[A, B]`` is checked by recomputing the tree at that size from the
  events; every other one needs a consistency line to the head.
* ``consistency``: RFC 6962 consistency proof from size ``M`` to the head size ``H``.
  Needed for each checkpoint outside ``[A, B]``, for ``M = B`` when ``B < H`` (that
  proves the events form a prefix of the head), and useful for any size an auditor may
  hold a trusted checkpoint of that is below ``A``; unused lines are ignored.
* ``prefix``: hashes of the perfect subtrees ``merkle.root_nodes(A)`` (left to right)
  covering the events before the bundle. With them the verifier continues the
  streaming tree computation at ``A`` instead of needing per-event inclusion proofs:
  O(log n) extra data instead of O(n log n). They need no proof of their own: a root
  recomputed from them and the events matches a signed root only if they are right.
* ``event``: ``canonical`` carries the exact canonical JSON text of the event as a JSON
  string; the leaf is SHA-256(0x00 || UTF-8 bytes of that text), never a
  re-serialisation. If the text has a top-level ``"seq"`` it must equal ``seq``.
  A *redacted* event (one the recipient may not see) has no ``canonical`` but
  ``"leaf":"<hex>"``, its leaf hash: it keeps its place in the tree, so everything
  else still verifies, and the report counts it.
  ``nodes`` are the stored hashes of ``merkle.perfect_nodes_completed_by(seq)``
  (leaf hash first, then the level 1, 2, ... nodes that leaf completes: on average two
  per event). They play no part in deciding whether the bundle is valid; they only
  serve to *locate* tampering (below).

Exporting from the node store
=============================

To export ``[A, B)`` (see `service.audit.merkle` for the storage contract): pick the
head checkpoint (size ``H``; ``B = H`` is simplest) and any older checkpoints to
include; read the ``root_nodes(A)`` rows for the prefix; stream the events ``A..B-1``
joined with their ``perfect_nodes_completed_by(seq)`` rows (level ``k``, index
``seq >> k``) and pass them as `BundleEvent` nodes; for each included checkpoint of size
``M`` outside ``[A, B]`` (and ``M = B`` when ``B < H``, and any size an auditor asks
for) read ``nodes_needed(consistency_proof_nodes(M, H))`` and `assemble_proof`. Then
`write_bundle`. Every read is a point read of O(log n) rows except the event stream.

Verification
============

Streaming, O(log n) memory apart from the problems found: parse each line, hash the
canonical bytes, and feed the leaf into a stack of perfect-subtree hashes (starting
from the prefix). At each checkpoint size (and the trusted checkpoint's size) the
stack is folded into a root and compared with the signed root. This first pass skips
the carried ``nodes``; only if a root disagrees does a second pass (when the input can
be read again: a sequence or a seekable file; otherwise the single pass does both)
compare each node a leaf completes with the carried one, to locate the change. What
each kind of tampering produces:

* **edited event** (text changed, carried hashes left alone, as when a database row is
  edited and then exported): the recomputed root differs (``root_mismatch``). To say
  *which* event, the verifier descends from the signed root through the carried node
  hashes: a carried pair of children is trusted only if it hashes to its already
  trusted parent, so the descent cannot be misled, and it ends at the leaf whose
  recomputed hash differs from its trusted hash: ``event_modified`` at that seq.
  A tamperer who also rewrites the carried hashes up to some level makes the descent
  stop at the lowest trusted node whose children do not hash to it:
  ``events_modified_in_range`` naming the first seq of that subtree; if even the
  top of the carried tree is wrong, ``event_hash_mismatch`` names the first event whose
  hash differs from its carried leaf hash, as an unauthenticated hint. (Locating an edit
  exactly against any tamperer needs an independent proof per event, O(n log n) data;
  this design keeps bundles O(n) and still pins down every naive edit.)
* **deleted event**: a gap in seq: ``missing_event`` at the first missing seq (events
  may be out of order in the file by up to `REORDER_WINDOW` lines before a gap is
  declared). A tail cut off the file: ``missing_event`` at the first missing seq.
* **inserted event**: a repeated seq (``duplicate_event``), a seq outside ``[A, B)``
  (``event_out_of_range``), and/or a root mismatch located as above.
* **swapped events**: lines out of order: ``out_of_order_event`` at the seq that
  appears late; contents swapped between seqs: the leaf hashes move, so
  ``event_modified`` at both seqs (and ``seq_mismatch`` where the text carries seq).
* **truncated log** (events *and* checkpoints cut back to an older signed state) is
  only visible against a checkpoint the auditor saved earlier: its size exceeds the
  bundle's head: ``log_truncated`` at the first seq the bundle no longer has.
* **rewritten history** (events re-hashed and checkpoints re-signed, e.g. by an insider
  with the key): the trusted checkpoint no longer matches the recomputed tree, or its
  consistency proof fails: ``trusted_checkpoint_mismatch`` (a single root cannot say
  where inside it the history changed, so no seq).
* **bad checkpoint signature**: ``bad_checkpoint_signature``; that checkpoint is not used.

Problem codes: ``bad_header``, ``bad_line``, ``bad_checkpoint``,
``bad_checkpoint_signature``, ``checkpoint_fork``, ``no_valid_checkpoint``,
``events_not_covered``, ``bad_prefix``, ``missing_consistency_proof``,
``consistency_proof_invalid``, ``root_mismatch``, ``event_modified``,
``events_modified_in_range``, ``event_hash_mismatch``, ``missing_event``, ``duplicate_event``,
``out_of_order_event``, ``event_out_of_range``, ``bad_event_json``, ``seq_mismatch``,
``bad_trusted_checkpoint``, ``trusted_checkpoint_mismatch``, ``log_truncated``,
``too_many_problems``.
"""

from __future__ import annotations

from service.audit.bundle.lines import FORMAT
from service.audit.bundle.report import MAX_PROBLEMS_PER_CODE, Problem, VerifyReport
from service.audit.bundle.verify import REORDER_WINDOW, verify_bundle
from service.audit.bundle.writer import (
    BundleEvent,
    BundleWriter,
    bundle_lines,
    write_bundle,
)

__all__ = [
    "FORMAT",
    "MAX_PROBLEMS_PER_CODE",
    "REORDER_WINDOW",
    "BundleEvent",
    "BundleWriter",
    "Problem",
    "VerifyReport",
    "bundle_lines",
    "verify_bundle",
    "write_bundle",
]
