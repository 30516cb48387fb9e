"""Secrets in backed-up files: find them, name where they are, never show them; redact them.

Contract (SPEC "Secrets"):
- `scan_blob(data, path)` returns the `Finding`s of one file version. JSON and JSON Lines
  are parsed as a stream (ijson events, an explicit path stack: bounded memory, no
  recursion, so a deeply nested file is fine) and every string value (and key) is scanned,
  so a finding names its JSON path (`$.entities[3].observations[0]`; JSON Lines:
  `line 4: $.observations[0]`). Anything else, and JSON that does not parse, is scanned by
  line (`line 12`). A crash of the scanner on a file gives one finding of kind
  "unscanned" for it: held, never clean.
- The detectors are the maintained fork of Yelp's detect-secrets, `bc-detect-secrets`
  (its regex plugins: imported once, on the first scan, their patterns then kept in the
  cache file), plus what it lacks (`PATTERNS`: Anthropic, OpenAI project, GitHub, GitLab,
  Slack, AWS, private-key blocks, age secret keys) and high-entropy values under keys
  named like password/secret/token. Its generic high-entropy and bare-keyword plugins are
  left out: agent memory is full of commit ids and uuids, and "password: see the wiki" is
  prose. Each pattern runs only where its literal (`GATES`) occurs and where one search of
  the whole (unescaped) file found it: a clean 100 KB memory file costs a few ms.
- A `Finding` is (id, path, where, kind). The id is a hash of kind + value + path (the
  value never leaves this module: no repr, str, log or cache holds it), so it is stable
  across versions of a file and `secrets allow ID` covers the value wherever it moves in
  that file. Out of scope: a secret split across lines or base64-encoded.
- `ScanCache` remembers results by blob id in a small JSON file, 0600 (what it keeps:
  kind, where and a sha256 of the value), so an unchanged vault costs nothing; a new
  scanner version or rule set empties it. "unscanned" results are never cached (retried next time).
- `redact(data, path, findings)` returns the bytes with each value of those findings
  replaced by `[REDACTED <kind>]`; JSON stays valid (each string literal holding a value
  is decoded, redacted, written again) and the rest of the file keeps its bytes;
  `RedactionError` if a value is still found afterwards.

Wiring (for the integrator): backup, after it wrote a commit, calls `scan_blobs` on the
blobs that commit changed (blob ids it already knows from the tree) with the cache file in
the vault's git dir (`<vault>/.git/memvault-secrets-cache.json`); the findings not in the
allow list (kept in the vault) hold the push when the remote is plain (`vault.encrypt`
false). `status --json` `secrets` is `[f.to_json() for f in findings]`; `secrets purge`
rewrites each unpushed commit's blobs with `redact`. Never import this module on the
hook's no-change path (it is only needed when something was committed).
"""
from __future__ import annotations

import os
import re
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator
    from collections.abc import Sequence
    from typing import Any

# Bump when the rules below change: cached results of older rules are thrown away.
RULES_VERSION = "1"
UNSCANNED = "unscanned"

# Patterns detect-secrets lacks (or matches only in part: its GitHub plugin yields "ghp").
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("anthropic-key", re.compile(r"sk-ant-[A-Za-z0-9_\-]{20,}")),
    ("openai-key", re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}")),
    ("github-token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b")),
    ("github-token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b")),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}")),
    ("slack-token", re.compile(r"\bxox[abpr]-[A-Za-z0-9\-]{10,}")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("age-secret-key", re.compile(r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Zac-hj-np-z]{58}")),
)
# Spans lines: run on a whole string value or a whole text file, not line by line.
PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY((?: BLOCK)?)-----"
    r"(?:.*?-----END \1PRIVATE KEY\2-----|[A-Za-z0-9+/=:,.\-\s\\]*)",
    re.S,
)
# "key: value", "key = value", "\"key\": \"value\"" in a line of text.
KEY_VALUE = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,63})[\"']?\s*(?::|=|:=)\s*[\"']?(?P<value>[^\s\"'`,;]{8,})"
)
_SECRET_WORDS = frozenset({
    "password", "passwd", "pass", "passphrase", "pwd", "secret", "secrets", "token",
    "tokens", "apikey", "credential", "credentials", "auth",
})
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"),
                           ("client", "secret"), ("auth", "key")})
MIN_SECRET_LENGTH = 8
MIN_ENTROPY = 3.0  # bits per character (Shannon): "Tr0ub4dor&3" is above, "aaaaaaaa" below

# detect-secrets plugins left out: the generic high-entropy and bare-keyword ones (see the
# module doc), and the vendor-keyword heuristics (IBM Cloud, Cloudant, SoftLayer) whose
# patterns match "cl" + "key"-like words in prose and cost more than the rest together;
# "cloudant_password = ..." is still found by the rule for values under secret-like keys.
_SKIPPED_PLUGINS = frozenset({"KeywordDetector", "Base64HighEntropyString", "HexHighEntropyString",
                              "CloudantDetector", "IbmCloudIamDetector", "IbmCosHmacDetector",
                              "SoftlayerDetector"})
# A pattern runs only on text that holds one of its kind's literals (a substring search
# costs microseconds, a regex over 100 KB milliseconds). Literals in lower case are looked
# for in the lower-cased text. A kind without an entry always runs.
GATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "anthropic-key": (("sk-ant-",), ()),
    "openai-key": (("sk-proj-", "sk-svcacct-", "sk-admin-"), ()),
    "github-token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), ()),
    "gitlab-token": (("glpat-",), ()),
    "slack-token": ((), ("xox", "hooks.slack.com")),
    "aws-access-key": (("AKIA", "ASIA", "A3T", "ABIA", "ACCA"), ("aws",)),
    "age-secret-key": (("AGE-SECRET-KEY-1",), ()),
    "artifactory-credentials": (("AKC",), ("artif", "jfrog", "buildkit")),
    "azure-storage-account-access-key": (("==",), ()),
    "basic-auth-credentials": (("://",), ()),
    "json-web-token": (("eyJ",), ()),
    "mailchimp-access-key": (("-us",), ()),
    "npm-tokens": ((), ("npm",)),
    "private-key": (("PRIVATE KEY", "PuTTY-User-Key-File"), ()),
    "sendgrid-api-key": (("SG.",), ()),
    "square-oauth-secret": (("sq0csp-",), ()),
    "stripe-access-key": (("k_live_",), ()),
    "twilio-api-key": (("AC", "SK"), ()),
}
# Words of a secret-like key, for the gate of the "value under a secret-like key" rule.
_KEY_GATE = ("pass", "pwd", "secret", "token", "key", "auth", "credential")


class Finding:
    """One secret in one file version: never holds the value itself."""

    __slots__ = ("id", "path", "where", "kind")

    def __init__(self, id: str, path: str, where: str, kind: str) -> None:
        self.id = id
        self.path = path
        self.where = where
        self.kind = kind

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "path": self.path, "where": self.where, "kind": self.kind}

    def __repr__(self) -> str:
        return f"Finding(id={self.id!r}, path={self.path!r}, where={self.where!r}, kind={self.kind!r})"

    def __str__(self) -> str:
        return f"{self.id} {self.path} {self.where} {self.kind}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.id, self.path, self.where, self.kind))


class ScanError(Exception):
    """The scanner failed on a file (the message never quotes the file)."""


def value_digest(value: str) -> str:
    import hashlib

    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


def finding_id(kind: str, digest: str, path: str) -> str:
    """The stable id: a hash of kind, value (through its digest) and path."""
    import hashlib

    return hashlib.sha256(f"memvault-secret\0{kind}\0{digest}\0{path}".encode("utf-8", "surrogateescape")).hexdigest()[:16]


# --- what is found: (kind, where, value), inside this module only ---------------------

def _shannon(value: str) -> float:
    import math

    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def secret_key_name(key: str) -> bool:
    """Whether a key is named like a password, secret or token ("apiKey", "DB_PASSWORD")."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    words = [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


def _high_entropy(value: str) -> bool:
    return (len(value) >= MIN_SECRET_LENGTH and not any(c.isspace() for c in value)
            and _shannon(value) >= MIN_ENTROPY)


class _Detectors:
    """Every detector's regex, compiled when first needed, with its gate (`GATES`)."""

    def __init__(self, plugin_patterns: list[tuple[str, str, int]]) -> None:
        self.sources = [(kind, p.pattern, int(p.flags)) for kind, p in PATTERNS]
        self.sources.extend(plugin_patterns)
        self.compiled: dict[int, tuple[re.Pattern[str], re.Pattern[str]]] = {}

    def _patterns(self, index: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
        """(the pattern, its whole-file form: ^ and $ at every line)."""
        found = self.compiled.get(index)
        if found is None:
            _, source, flags = self.sources[index]
            found = self.compiled[index] = (re.compile(source, flags), re.compile(source, flags | re.M))
        return found

    def active(self, text: str) -> _Active:
        """The detectors that find something in `text` (a whole file, unescaped): a pattern
        that matches nowhere in it matches in none of its strings or lines."""
        lowered = text.lower()
        pairs: list[tuple[str, re.Pattern[str]]] = []
        for index, (kind, _, _) in enumerate(self.sources):
            if _gate_open(kind, text, lowered):
                pattern, whole_file = self._patterns(index)
                if whole_file.search(text):
                    pairs.append((kind, pattern))
        keyed = any(word in lowered for word in _KEY_GATE) and bool(_KEYED_GATE.search(text))
        return _Active(pairs, keyed, "-----BEGIN " in text)


# Some key named like a secret followed by ":" or "=" (in JSON: `"api_token": `).
_KEYED_GATE = re.compile(r"(?i)(?:pass|pwd|secret|token|key|auth|credential)[A-Za-z0-9_.\- ]{0,40}[\"']?\s*(?::|=)")


class _Active:
    """The detectors to run on the strings of one file: usually none."""

    def __init__(self, pairs: list[tuple[str, re.Pattern[str]]], keyed: bool, blocks: bool) -> None:
        self.pairs = pairs
        self.keyed = keyed
        self.blocks = blocks

    def idle(self) -> bool:
        return not (self.pairs or self.keyed or self.blocks)

    def line(self, text: str) -> Iterator[tuple[str, str]]:
        """(kind, value) of each secret in one line of text (or one string value)."""
        for kind, pattern in self.pairs:
            for m in pattern.finditer(text):
                yield kind, m.group(0)
        if self.keyed:
            lowered = text.lower()
            if any(word in lowered for word in _KEY_GATE):
                for m in KEY_VALUE.finditer(text):
                    if secret_key_name(m.group("key")) and _high_entropy(m.group("value")):
                        yield "secret-under-key", m.group("value")

    def whole(self, text: str) -> Iterator[tuple[str, str]]:
        """(kind, value) of what spans lines: private-key blocks."""
        if not self.blocks or "-----BEGIN " not in text:
            return
        for m in PRIVATE_KEY.finditer(text):
            yield "private-key", m.group(0).rstrip()


def _gate_open(kind: str, text: str, lowered: str) -> bool:
    gate = GATES.get(kind)
    if gate is None:
        return True
    exact, lower = gate
    return any(word in text for word in exact) or any(word in lowered for word in lower)


_JSON_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def _unescaped(text: str) -> str:
    """JSON text with its string escapes undone (for the gates only: a secret written as
    "\\u0041KIA..." or "https:\\/\\/..." still opens them)."""
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return chr(int(m.group(1), 16))
        return _SIMPLE_ESCAPES.get(m.group(2), m.group(2))

    return _JSON_ESCAPE.sub(one, text)


def _plugin_patterns() -> list[tuple[str, str, int]]:
    """(kind, regex source, flags) of the detect-secrets plugins used (imports it: ~130 ms)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    found: list[tuple[str, str, int]] = []
    for secret_type, cls in sorted(get_mapping_from_secret_type_to_class().items()):
        if cls.__name__ in _SKIPPED_PLUGINS:
            continue
        kind = re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")
        for pattern in getattr(cls, "denylist", ()):
            found.append((kind, pattern.pattern, int(pattern.flags)))
    return found


_detectors: _Detectors | None = None


def _get_detectors(cache: ScanCache | None = None) -> _Detectors:
    """The detectors; their plugin patterns from the cache when it has them (so a sync does
    not import detect-secrets), else from detect-secrets (and into the cache)."""
    global _detectors
    if _detectors is None:
        patterns = cache.patterns if cache is not None else None
        if patterns is None:
            patterns = _plugin_patterns()
            if cache is not None:
                cache.patterns = patterns
                cache.dirty = True
        _detectors = _Detectors(patterns)
    return _detectors


def _is_json_path(path: str) -> bool:
    return path.lower().endswith(".json")


def _is_jsonl_path(path: str) -> bool:
    return path.lower().endswith((".jsonl", ".ndjson"))


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


MAX_SHOWN_DEPTH = 24  # a deeper path shows its first and last levels around "..."


def _render_path(parts: Sequence[str | int | None]) -> str:
    pieces = [_render_part(part) for part in parts]
    if len(pieces) > MAX_SHOWN_DEPTH:
        pieces = [*pieces[:8], "...", *pieces[-(MAX_SHOWN_DEPTH - 8):]]
    return "$" + "".join(pieces)


def _render_part(part: str | int | None) -> str:
    if part is None:  # a key that is itself a secret: never printed
        return "[<secret key>]"
    if isinstance(part, int):
        return f"[{part}]"
    if _PLAIN_KEY.match(part):
        return f".{part}"
    import json

    return f"[{json.dumps(part, ensure_ascii=False)}]"


def _hits_in_string(det: _Active, value: str, key: str | None) -> Iterator[tuple[str, str]]:
    if det.blocks and "-----BEGIN " in value:
        yield from det.whole(value)
    if det.pairs or (det.keyed and ("=" in value or ":" in value)):
        for line in value.splitlines() or [value]:
            yield from det.line(line)
    if det.keyed and key is not None and _secret_key_cached(key) and _high_entropy(value):
        yield "secret-under-key", value


_key_names: dict[str, bool] = {}


def _secret_key_cached(key: str) -> bool:
    known = _key_names.get(key)
    if known is None:
        known = _key_names[key] = secret_key_name(key)
        if len(_key_names) > 10000:
            _key_names.clear()
    return known


def _hits_in_json(det: _Active, data: bytes, prefix: str) -> Iterator[tuple[str, str, str]]:
    """(kind, where, value) for one JSON document, from a stream of parser events."""
    import io

    from memvault_hooks.formats import _ijson

    ijson = _ijson()
    # Each open container: [index of next item (array) or -1 (object), current key].
    stack: list[list[Any]] = []
    parts: list[str | int | None] = []

    def where() -> str:
        return prefix + _render_path(parts)

    for event, value in ijson.basic_parse(io.BytesIO(data), use_float=True):
        if event == "map_key":
            hits = list(_hits_in_string(det, value, None))
            stack[-1][1] = None if hits else value
            parts[-1] = None if hits else value
            if hits:
                shown = where()
                for kind, secret in hits:
                    yield kind, shown, secret
            continue
        if stack and stack[-1][0] >= 0 and event not in ("end_array",):
            parts[-1] = stack[-1][0]
            stack[-1][0] += 1
        if event in ("start_map", "start_array"):
            stack.append([-1 if event == "start_map" else 0, None])
            parts.append(None if event == "start_map" else 0)
        elif event in ("end_map", "end_array"):
            stack.pop()
            parts.pop()
        elif event == "string":
            key = stack[-1][1] if stack and stack[-1][0] < 0 else None
            hits = list(_hits_in_string(det, value, key))
            if hits:
                shown = where()
                for kind, secret in hits:
                    yield kind, shown, secret


def _hits_in_text(det: _Active, text: str) -> Iterator[tuple[str, str, str]]:
    for kind, value in det.whole(text):
        start = text.find(value)
        yield kind, f"line {text.count(chr(10), 0, max(start, 0)) + 1}", value
    for number, line in enumerate(text.splitlines(), 1):
        for kind, value in det.line(line):
            yield kind, f"line {number}", value


def _json_error() -> type[Exception]:
    from ijson.common import JSONError  # type: ignore[import-untyped]

    return JSONError  # type: ignore[no-any-return]


def _hits(data: bytes, path: str) -> list[tuple[str, str, str]]:
    text = data.decode("utf-8", "surrogateescape")
    det = _get_detectors().active(_unescaped(text))
    if det.idle():  # no detector's literal anywhere in the file: nothing to parse
        return []
    if _is_json_path(path):
        try:
            return list(_hits_in_json(det, data, ""))
        except _json_error():  # not JSON after all: scan its text
            pass
    elif _is_jsonl_path(path):
        found: list[tuple[str, str, str]] = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                found.extend(_hits_in_json(det, line.encode("utf-8", "surrogateescape"), f"line {number}: "))
            except _json_error():
                found.extend((k, f"line {number}", v) for k, _, v in _hits_in_text(det, line))
        return found
    return list(_hits_in_text(det, text))


def _dedupe(hits: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """One hit per (where, value); a value inside a longer one at the same place is dropped
    (the longer one is redacted whole)."""
    by_where: dict[str, list[tuple[str, str]]] = {}
    for kind, where, value in hits:
        by_where.setdefault(where, []).append((kind, value))
    out: list[tuple[str, str, str]] = []
    for where, found in by_where.items():
        kept: list[tuple[str, str]] = []
        for kind, value in sorted(found, key=lambda kv: -len(kv[1])):
            if not value.strip() or any(value in longer for _, longer in kept):
                continue
            kept.append((kind, value))
        out.extend((kind, where, value) for kind, value in kept)
    return out


def scan_raw(data: bytes, path: str) -> list[tuple[str, str, str]]:
    """(kind, where, value digest) of each secret in one file version; raises ScanError."""
    try:
        return [(kind, where, value_digest(value)) for kind, where, value in _dedupe(_hits(data, path))]
    except ImportError:
        raise
    except Exception as exc:
        raise ScanError(f"the scanner failed on {path}: {type(exc).__name__}") from None


def findings_from_raw(raw: Iterable[Sequence[str]], path: str) -> list[Finding]:
    return [Finding(finding_id(kind, digest, path), path, where, kind) for kind, where, digest in raw]


def unscanned(data: bytes, path: str) -> Finding:
    return Finding(finding_id(UNSCANNED, value_digest(data.decode("utf-8", "surrogateescape")), path),
                   path, "whole file", UNSCANNED)


def scan_blob(data: bytes, path: str) -> list[Finding]:
    """The findings of one file version; a scanner crash is one "unscanned" finding."""
    try:
        return findings_from_raw(scan_raw(data, path), path)
    except ScanError:
        return [unscanned(data, path)]


# --- the cache: blob id -> what was found (no values) --------------------------------

def scanner_version() -> str:
    """Names the rules and the installed detect-secrets (its folder's change time: an
    upgrade changes it) without importing it."""
    from importlib.util import find_spec

    spec = find_spec("detect_secrets")
    if spec is None or not spec.origin:
        return f"rules {RULES_VERSION}; detect-secrets absent"
    folder = os.path.dirname(spec.origin)
    stamp = max(os.stat(os.path.join(folder, sub)).st_mtime_ns for sub in (".", "plugins"))
    return f"rules {RULES_VERSION}; {folder} {stamp}"


class ScanCache:
    """Scan results by blob id, and the plugin patterns, kept in one small JSON file (0600).
    A file from another scanner version, or one that does not parse, is an empty cache."""

    def __init__(self, file: str) -> None:
        import json

        self.file = file
        self.version = scanner_version()
        self.blobs: dict[str, list[list[str]]] = {}
        self.patterns: list[tuple[str, str, int]] | None = None
        self.dirty = False
        try:
            with open(file, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return
        if not isinstance(doc, dict) or doc.get("version") != self.version:
            return
        if isinstance(doc.get("blobs"), dict):
            self.blobs = {
                k: v for k, v in doc["blobs"].items()
                if isinstance(v, list) and all(isinstance(r, list) and len(r) == 3 for r in v)
            }
        patterns = doc.get("patterns")
        if isinstance(patterns, list) and all(
                isinstance(p, list) and len(p) == 3 and isinstance(p[0], str) and isinstance(p[1], str)
                and isinstance(p[2], int) for p in patterns):
            self.patterns = [(p[0], p[1], p[2]) for p in patterns]

    def get(self, blob_id: str, path: str) -> list[Finding] | None:
        raw = self.blobs.get(blob_id)
        return None if raw is None else findings_from_raw(raw, path)

    def put(self, blob_id: str, raw: list[tuple[str, str, str]]) -> None:
        self.blobs[blob_id] = [list(r) for r in raw]
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        import json

        doc = {"version": self.version, "blobs": self.blobs, "patterns": self.patterns}
        # A cache: a temp file and a rename suffice (losing it costs one scan, not data).
        tmp = f"{self.file}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, sort_keys=True)
            os.replace(tmp, self.file)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.dirty = False


def scan_blobs(
    blobs: Iterable[tuple[str, str]],
    read: Callable[[str], bytes],
    cache_file: str,
) -> list[Finding]:
    """The findings of (blob id, path) pairs; `read(blob_id)` gives a blob's bytes and is
    called only for blobs not in the cache. Saves the cache."""
    cache = ScanCache(cache_file)
    found: list[Finding] = []
    detectors_ready = False
    for blob_id, path in blobs:
        cached = cache.get(blob_id, path)
        if cached is not None:
            found.extend(cached)
            continue
        data = read(blob_id)
        if not detectors_ready:
            _get_detectors(cache)
            detectors_ready = True
        try:
            raw = scan_raw(data, path)
        except ScanError:
            found.append(unscanned(data, path))
            continue
        cache.put(blob_id, raw)
        found.extend(findings_from_raw(raw, path))
    cache.save()
    return found


# --- purge ---------------------------------------------------------------------------

class RedactionError(Exception):
    """A held value could not be replaced (the message never quotes it)."""


def redact(data: bytes, path: str, findings: Iterable[Finding]) -> bytes:
    """`data` with each value of `findings` (of this path) replaced by `[REDACTED <kind>]`.

    A value is found again by scanning (the findings hold no values) and replaced where it
    stands: in JSON, each string literal that holds one is decoded, redacted and written
    again, so JSON stays valid and every other literal keeps its bytes. "unscanned" findings cannot be redacted
    (there is no value): the caller removes or allows them."""
    wanted = {f.id for f in findings if f.path == path and f.kind != UNSCANNED}
    if not wanted:
        return data
    text = data.decode("utf-8", "surrogateescape")
    values: dict[str, str] = {}
    for kind, _, value in _dedupe(_hits(data, path)):
        if finding_id(kind, value_digest(value), path) in wanted:
            values.setdefault(value, kind)
    ordered = sorted(values.items(), key=lambda vk: -len(vk[0]))
    if _is_json_path(path) or _is_jsonl_path(path):
        text = _redact_json_strings(text, ordered)
    for value, kind in ordered:  # text, and JSON that did not parse
        text = text.replace(value, f"[REDACTED {kind}]")
    out = text.encode("utf-8", "surrogateescape")
    left = {finding_id(kind, value_digest(value), path) for kind, _, value in _hits(out, path)}
    if left & wanted:
        raise RedactionError(f"{path}: a held value is written in a form that could not be replaced; "
                             "edit the file by hand, then run `memvault secrets purge` again")
    return out


_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _redact_json_strings(text: str, values: list[tuple[str, str]]) -> str:
    """Each JSON string literal that holds a value, decoded, redacted and written again
    (the literals that hold none keep their bytes, escapes included)."""
    import json

    def one(m: re.Match[str]) -> str:
        literal = m.group(0)
        try:
            decoded = json.loads(literal)
        except ValueError:
            return literal
        redacted = decoded
        for value, kind in values:
            redacted = redacted.replace(value, f"[REDACTED {kind}]")
        return literal if redacted == decoded else json.dumps(redacted, ensure_ascii=False)

    return _JSON_STRING.sub(one, text)
