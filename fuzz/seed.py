#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets from the spec vectors (spec/vectors/*.json).

    python3 fuzz/seed.py            # writes fuzz/corpus/<target>/seed-*

Each seed is a file named after the vector it comes from. The token target's input is one
options byte, one key-set index and the token; the key-set index counts the distinct key-set
documents in the order fuzz/src/lib.rs reads them (files sorted by name, tests in order).
Standard library only.
"""

import base64
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "spec" / "vectors"
CORPUS = ROOT / "fuzz" / "corpus"

# Options byte of token_verify: accept kind in bits 0-1, the token's own aud (bit 2), the
# token's own sub (bits 3-4 = 2) or an anonymous caller (1), now = the token's iat (bit 5).
ACCEPT = {"signed": 0, "sealed": 1, "either": 2}


def vector_files():
    """The vector files fuzz/src/lib.rs reads (its VECTOR_FILES), in its order. The index of a key
    set counts the documents of these files, so a file that the targets do not read would shift
    every seed's index: refused here rather than seeded wrong."""
    lib = (ROOT / "fuzz" / "src" / "lib.rs").read_text(encoding="utf-8")
    names = re.findall(r'include_str!\("\.\./\.\./spec/vectors/([\w.-]+\.json)"\)', lib)
    on_disk = sorted(path.name for path in VECTORS.glob("*.json"))
    if names != on_disk:
        raise SystemExit(
            f"fuzz/src/lib.rs VECTOR_FILES {names} is not spec/vectors/*.json {on_disk}: update it"
        )
    return [VECTORS / name for name in names]


def vector_tests():
    for path in vector_files():
        for test in json.loads(path.read_text(encoding="utf-8"))["tests"]:
            yield test


def distinct_key_sets():
    docs = []
    for test in vector_tests():
        keys = test.get("keys")
        if isinstance(keys, dict) and keys not in docs:
            docs.append(keys)
    return docs


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    (folder / f"seed-{name}").write_bytes(data)


def token_seeds(docs):
    for test in vector_tests():
        token, keys = test.get("token"), test.get("keys")
        if not isinstance(token, str) or not isinstance(keys, dict):
            continue
        options = ACCEPT.get(test.get("accept"), 2) | 4
        options |= (2 << 3) if test.get("sub") else 0
        options |= 32 if test.get("now") != 1790000000 else 0
        data = bytes([options, docs.index(keys)]) + token.encode("utf-8")
        write("token_verify", test["name"], data)


def claims_seeds():
    # token_claims: options byte (key in bits 0-1, the claims' own sub: bit 2, now = their
    # iat: bit 3), then the claims JSON of each signed vector token, signed by the harness.
    for test in vector_tests():
        token = test.get("token")
        if not isinstance(token, str) or token.count(".") != 2:
            continue
        segment = token.split(".")[1]
        try:
            claims = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except ValueError:
            continue
        for kind in range(3):
            write("token_claims", f"{test['name']}-{kind}", bytes([kind | 4 | 8]) + claims)


def key_set_seeds(docs):
    for i, doc in enumerate(docs):
        write("key_set", f"vector-{i}", json.dumps(doc, indent=2))
        public = {"keys": [{k: v for k, v in key.items() if k != "d"}
                           for key in doc.get("keys", []) if key.get("kty") == "OKP"]}
        write("key_set", f"public-{i}", json.dumps(public))


def action_body_seeds():
    # The first byte picks the route, the second the content type, the third where the token
    # goes and the fourth the caller (see fuzz_targets/action_body.rs); TOKEN stands for a
    # valid token of the route.
    payloads = {
        "json-input": (0, 0, 0, b'{"token": "TOKEN", "input": {"note": "urgent", "count": 3}}'),
        "json-no-input": (0, 0, 0, b'{"token": "TOKEN"}'),
        "json-header": (1, 0, 1, b'{"input": [1, 2.5, "x", null, true]}'),
        "form-input": (0, 2, 0, b"note=two+words&tessera_token=TOKEN&count=7"),
        "form-print": (1, 2, 0, b"tessera_token=TOKEN&a=%C3%A9&b="),
        "sealed-json": (2, 0, 0, b'{"token": "TOKEN", "input": {"k": {"\\u0061": 1}}}'),
        "empty-header": (1, 4, 1, b""),
    }
    for name, (route, ctype, where, body) in payloads.items():
        write("action_body", name, bytes([route, ctype, where, 1]) + body)


def json_input_seeds():
    for test in vector_tests():
        if "payload" in test:
            write("json_input", test["name"], json.dumps(test["payload"]))
    for name, text in {
        "repeat": '{"qty": 1, "qty": 900}',
        "escaped-repeat": '{"a": 1, "\\u0061": 2}',
        "surrogate": '{"s": "\\ud800"}',
        "pair": '{"s": "\\ud83d\\ude00"}',
        "big": "[1e400, 18446744073709551616, -9223372036854775809, 0.1]",
        "deep": "[" * 130 + "]" * 130,
    }.items():
        write("json_input", name, text)


def main():
    docs = distinct_key_sets()
    token_seeds(docs)
    claims_seeds()
    key_set_seeds(docs)
    action_body_seeds()
    json_input_seeds()
    counts = {p.name: len(list(p.iterdir())) for p in sorted(CORPUS.iterdir()) if p.is_dir()}
    print("seeds:", ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
