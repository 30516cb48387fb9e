"""The detectors of the secret scanner: which regexes, where they run, how fast.

Contract: `get(patterns)` gives the one `Detectors` of this process. Its regexes are the
maintained fork of Yelp's detect-secrets, `bc-detect-secrets` (its regex plugins, read by
`plugin_patterns()`, which imports it: ~130 ms, so secret_cache keeps them in its file and
hands them back), plus what it lacks (`PATTERNS`: Anthropic, OpenAI project, GitHub,
GitLab, Slack, AWS, age secret keys; `PRIVATE_KEY` blocks, which span lines) and
high-entropy values under keys named like password/secret/token (`KEY_VALUE`,
`secret_key_name`, `high_entropy`). Left out of detect-secrets: its generic high-entropy
and bare-keyword plugins (agent memory is full of commit ids and uuids, and "password: see
the wiki" is prose) and its IBM/Cloudant/SoftLayer keyword heuristics (noisy, and slower
than all the rest together).

Speed: `Detectors.active(whole file, unescaped)` keeps only the patterns whose literal
(`GATES`) occurs in the file and that one search of the whole file finds; a clean 100 KB
memory file costs a few ms and is never parsed (`Active.idle()`). Used by secret_scan only.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

from memvault_hooks.errors import MemvaultError

# Bump when the rules change: cached results of older rules are thrown away.
RULES_VERSION = "1"

# Patterns detect-secrets lacks (or matches only in part: its GitHub plugin yields "ghp").
# Every regex here is kept as its source and compiled where a file first needs it (re keeps
# it then): a sync whose files open no gate compiles none (~5 ms at each start otherwise).
PATTERNS: tuple[tuple[str, str], ...] = (
    ("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    ("openai-key", r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}"),
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),
    ("github-token", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    ("gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    ("slack-token", r"\bxox[abpr]-[A-Za-z0-9\-]{10,}"),
    ("aws-access-key", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    ("age-secret-key", r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Zac-hj-np-z]{58}"),
)
# Spans lines (re.S): run on a whole string value or a whole text file, not line by line.
PRIVATE_KEY = (r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY((?: BLOCK)?)-----"
               r"(?:.*?-----END \1PRIVATE KEY\2-----|[A-Za-z0-9+/=:,.\-\s\\]*)")
# "key: value", "key = value", "\"key\": \"value\"" in a line of text.
KEY_VALUE = r"(?P<key>[A-Za-z_][A-Za-z0-9_.\-]{0,63})[\"']?\s*(?::|=|:=)\s*[\"']?(?P<value>[^\s\"'`,;]{8,})"
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


def high_entropy(value: str) -> bool:
    return (len(value) >= MIN_SECRET_LENGTH and not any(c.isspace() for c in value)
            and _shannon(value) >= MIN_ENTROPY)


class Detectors:
    """Every detector's regex, compiled when first needed, with its gate (`GATES`)."""

    def __init__(self, plugin_patterns: list[tuple[str, str, int]]) -> None:
        self.plugin_sources = plugin_patterns
        self.sources = [(kind, source, 0) for kind, source in PATTERNS]
        self.sources.extend(plugin_patterns)
        self.compiled: dict[int, tuple[re.Pattern[str], re.Pattern[str]]] = {}

    def _patterns(self, index: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
        """(the pattern, its whole-file form: ^ and $ at every line)."""
        found = self.compiled.get(index)
        if found is None:
            _, source, flags = self.sources[index]
            found = self.compiled[index] = (re.compile(source, flags), re.compile(source, flags | re.M))
        return found

    def active(self, text: str) -> Active:
        """The detectors that find something in `text` (a whole file, unescaped): a pattern
        that matches nowhere in it matches in none of its strings or lines."""
        lowered = text.lower()
        pairs: list[tuple[str, re.Pattern[str]]] = []
        gates: dict[str, bool] = {}  # a kind's literals are looked for once (~60 us each in 100 KB)
        for index, (kind, _, _) in enumerate(self.sources):
            if kind not in gates:
                gates[kind] = _gate_open(kind, text, lowered)
            if gates[kind]:
                pattern, whole_file = self._patterns(index)
                if whole_file.search(text):
                    pairs.append((kind, pattern))
        keyed = any(word in lowered for word in _KEY_GATE) and bool(re.search(_KEYED_GATE, lowered))
        return Active(pairs, keyed, "-----BEGIN " in text)


# Some key named like a secret followed by ":" or "=" (in JSON: `"api_token": `), looked for
# in the lower-cased text: without re.I, re skips ahead to the words' first letters (7 ms
# less on 100 KB of prose that says "token").
_KEYED_GATE = r"(?:pass|pwd|secret|token|key|auth|credential)[a-z0-9_.\- ]{0,40}[\"']?\s*(?::|=)"


class Active:
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
                for m in re.finditer(KEY_VALUE, text):
                    if secret_key_name(m.group("key")) and high_entropy(m.group("value")):
                        yield "secret-under-key", m.group("value")

    def whole(self, text: str) -> Iterator[tuple[str, str]]:
        """(kind, value) of what spans lines: private-key blocks."""
        if not self.blocks or "-----BEGIN " not in text:
            return
        for m in re.finditer(PRIVATE_KEY, text, re.S):
            yield "private-key", m.group(0).rstrip()


def _gate_open(kind: str, text: str, lowered: str) -> bool:
    gate = GATES.get(kind)
    if gate is None:
        return True
    exact, lower = gate
    return any(word in text for word in exact) or any(word in lowered for word in lower)


_JSON_ESCAPE = r"\\(?:u([0-9a-fA-F]{4})|(.))"
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def unescaped(text: str) -> str:
    """JSON text with its string escapes undone (for the gates only: a secret written as
    "\\u0041KIA..." or "https:\\/\\/..." still opens them)."""
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return chr(int(m.group(1), 16))
        return _SIMPLE_ESCAPES.get(m.group(2), m.group(2))

    return re.sub(_JSON_ESCAPE, one, text)


def plugin_patterns() -> list[tuple[str, str, int]]:
    """(kind, regex source, flags) of the detect-secrets plugins used (imports it: ~130 ms)."""
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError as exc:
        raise MemvaultError(f"the secret scanner is missing ({exc}); reinstall memvault-hooks "
                            "(pip install --force-reinstall memvault-hooks)") from None

    found: list[tuple[str, str, int]] = []
    for secret_type, cls in sorted(get_mapping_from_secret_type_to_class().items()):
        if cls.__name__ in _SKIPPED_PLUGINS:
            continue
        kind = re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")
        for pattern in getattr(cls, "denylist", ()):
            found.append((kind, pattern.pattern, int(pattern.flags)))
    return found


_detectors: Detectors | None = None


def get(patterns: list[tuple[str, str, int]] | None = None) -> Detectors:
    """The detectors of this process; `patterns`: the plugin patterns a cache kept (None:
    read them from detect-secrets)."""
    global _detectors
    if _detectors is None:
        _detectors = Detectors(patterns if patterns is not None else plugin_patterns())
    return _detectors
