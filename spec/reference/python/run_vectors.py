#!/usr/bin/env python3
"""Runs the Python reference over the test vectors and checks every exact outcome.

  run_vectors.py [PATH ...]   PATH: a vector file or a directory of *.json files
                              (default: spec/vectors/, found relative to this script)

Verification cases run through verify(); the cases of mint.json (a file named "mint") through
mint(), whose token must equal the case's byte for byte. Prints one line per failing case and
a summary; exits 1 on any failure, or when no vector
case was found. Without the `cryptography` package, the EdDSA and sealed cases that need it
are skipped with a notice (sealed cases refused before decryption still run).
"""
import json
import sys
from pathlib import Path

# The reference implementation is the pure-Python backend of the package `tessera`:
# python/tessera/_reference.py (imported from the source tree, no install needed).
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python"))
from tessera import _reference as ref  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "vectors"


def _canonical(value):
    # Strict equality: true != 1, 1 != 1.0, member order irrelevant.
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def _has_okp(keys):
    return isinstance(keys, dict) and any(
        isinstance(k, dict) and k.get("kty") == "OKP" for k in keys.get("keys") or [])


def build_keys(build):
    """The key-set text a case's "keys-build" describes: head, count items ("{n}" replaced by
    the index) joined by separator, pad spaces, tail."""
    items = (build["item"].replace("{n}", str(n)) for n in range(build["count"]))
    return build["head"] + build["separator"].join(items) + " " * build["pad"] + build["tail"]


def run_case(case):
    """Returns ("pass" | "fail" | "skip", detail)."""
    try:
        expect_fail, code = case["expect-fail"], case["expected-code"]
        try:
            # keys-text: the document as written (json.load would merge a repeated member).
            key_set = ref.load_key_set(case["keys-text"] if "keys-text" in case
                                       else build_keys(case["keys-build"]) if "keys-build" in case
                                       else case["keys"])
            claims = ref.verify(case["token"], key_set, case["now"], case["iss"], case["aud"],
                                sub=case.get("sub"), accept=case["accept"],
                                anonymous=case.get("anonymous", False),
                                **case.get("options", {}))
            got = ("payload", _canonical(claims["dat"]))
        except ref.TesseraError as e:
            got = ("error", e.code)
        want = ("error", code) if expect_fail else ("payload", _canonical(case["payload"]))
    except ref.CryptoUnavailable as e:
        return "skip", str(e)
    except (KeyError, TypeError, ValueError) as e:
        return "fail", f"case is not well-formed ({type(e).__name__}: {e})"
    if got == want:
        return "pass", ""
    if ref._ed25519 is None and code == "invalid_key" and _has_okp(case["keys"]):
        return "skip", "d-derives-x check needs EdDSA"  # cannot be checked without cryptography
    return "fail", f"expected {want[0]} {want[1]}, got {got[0]} {got[1]}"


def _refuse_constant(name):
    raise ValueError("NaN and Infinity are not JSON")


def run_mint_case(case):
    """A mint case: ("pass" | "fail" | "skip", detail)."""
    try:
        expect_fail, code = case["expect-fail"], case["expected-code"]
        strings = {name: case[name] for name in ("iss", "aud", "sub", "fpr")}
        for name, text in case.get("text-inputs", {}).items():
            strings[name] = json.loads(text)  # keeps a lone surrogate, as a str can
        # The value the text denotes; integers of any size stay integers for mint() to judge.
        dat = json.loads(case["dat-text"], parse_constant=_refuse_constant)
        iv = ref.b64d(case["iv"]) if case["iv"] is not None else None
        try:
            key_set = ref.load_key_set(case["keys"])
            token = ref.mint(key_set, strings["iss"], strings["aud"], dat, case["now"],
                             ttl=case["ttl"], sub=strings["sub"], jti=case["jti"],
                             nbf=case["nbf"], fpr=strings["fpr"], sealed=case["kind"] == "sealed",
                             iv=iv, **case.get("options", {}))
            got = ("token", token)
        except ref.TesseraError as e:
            got = ("error", e.code)
        want = ("error", code) if expect_fail else ("token", case["token"])
    except ref.CryptoUnavailable as e:
        return "skip", str(e)
    except (KeyError, TypeError, ValueError) as e:
        return "fail", f"case is not well-formed ({type(e).__name__}: {e})"
    if got == want:
        return "pass", ""
    return "fail", f"expected {want[0]} {want[1]}, got {got[0]} {got[1]}"


def vector_files(paths):
    files = []
    for path in paths:
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    files = vector_files([Path(a) for a in args] or [DEFAULT_DIR])
    missing = ref.unavailable_features()
    if missing:
        print(f"notice: the 'cryptography' package is not importable; {' and '.join(missing)} "
              "cases that need it are skipped")
    counts, unreadable = {"pass": 0, "fail": 0, "skip": 0}, 0
    for path in files:
        try:
            document = ref.parse_json(path.read_bytes())
            cases = document["tests"]
            runner = run_mint_case if document.get("name") == "mint" else run_case
            if not isinstance(cases, list):
                raise TypeError("tests is not a list")
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
            print(f"FAIL {path}: cannot read vector file ({type(e).__name__})")
            unreadable += 1
            continue
        for index, case in enumerate(cases):
            status, detail = runner(case) if isinstance(case, dict) else ("fail", "not an object")
            counts[status] += 1
            if status == "fail":
                name = case.get("name", f"#{index}") if isinstance(case, dict) else f"#{index}"
                print(f"FAIL {path.name}:{name}: {detail}")
    total = sum(counts.values())
    print(f"{len(files)} vector file(s), {total} case(s): {counts['pass']} passed, "
          f"{counts['fail']} failed, {counts['skip']} skipped")
    if total == 0:
        print("no vector cases found")
    return 1 if counts["fail"] or unreadable or total == 0 else 0

if __name__ == "__main__":
    sys.exit(main())
