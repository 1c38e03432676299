#!/usr/bin/env python3
"""Command-line front end of the Python reference, for cross-implementation tests.

  tessera_cli.py mint   --keys FILE --iss I --aud A [--sub S] [--ttl N] [--now N] [--payload JSON]
                        [--sealed]
      prints the token and exits 0. --sealed seals it (JWE dir + A256GCM) with the key set's
      active sealing key instead of signing it with the active key.
  tessera_cli.py verify --keys FILE --iss I --aud A [--sub S] [--now N]
                        [--accept signed|sealed|either] [--] TOKEN
      prints the payload (dat) as compact JSON and exits 0. --accept is the route's kind
      (default: signed); a token of another kind is refused as malformed.

A protocol error prints `error: <code>: <message>` to stderr and exits 1. Usage errors, an
unreadable key file, an invalid --payload or a missing `cryptography` package exit 2.
--now defaults to the system clock; --payload defaults to null; --ttl to 300.
EdDSA keys and sealed tokens need the `cryptography` package.
"""
import argparse
import json
import sys
import time

# The reference implementation is the pure-Python backend of the package `tessera`:
# python/tessera/_reference.py (imported from the source tree, no install needed).
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3] / "python"))
from tessera import _reference as ref  # noqa: E402


def _parser():
    parser = argparse.ArgumentParser(prog="tessera_cli.py", description="tessera v1 reference CLI")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("mint", "verify"):
        cmd = commands.add_parser(name)
        cmd.add_argument("--keys", required=True, metavar="FILE", help="JWK set file (JSON)")
        cmd.add_argument("--iss", required=True, help="issuer")
        cmd.add_argument("--aud", required=True, help="audience: the action id")
        cmd.add_argument("--sub", help="subject (principal)")
        cmd.add_argument("--now", type=int, help="current time, integer seconds since the epoch")
        if name == "mint":
            cmd.add_argument("--ttl", type=int, default=300, help="lifetime in seconds (300)")
            cmd.add_argument("--payload", default="null", metavar="JSON", help="the dat value")
            cmd.add_argument("--sealed", action="store_true",
                             help="seal with the active sealing key (JWE dir + A256GCM)")
        else:
            cmd.add_argument("--accept", choices=ref.ACCEPT, default="signed",
                             help="the kinds of token the route accepts (signed)")
            cmd.add_argument("token", metavar="TOKEN")
    return parser


def _out(text, stream):
    stream.buffer.write((text + "\n").encode("utf-8"))
    stream.flush()


def main(argv=None):
    args = _parser().parse_args(argv)
    now = int(time.time()) if args.now is None else args.now
    try:
        with open(args.keys, "rb") as f:
            key_set = ref.load_key_set(f.read())
        if args.command == "mint":
            try:
                dat = ref.parse_json(args.payload.encode("utf-8", "surrogateescape"),
                                     exact_integers=True)  # mint() refuses those beyond 64 bits
            except (ValueError, RecursionError, OverflowError):
                _out("error: --payload is not strict JSON", sys.stderr)
                return 2
            _out(ref.mint(key_set, args.iss, args.aud, dat, now, ttl=args.ttl, sub=args.sub,
                          sealed=args.sealed), sys.stdout)
        else:
            claims = ref.verify(args.token, key_set, now, args.iss, args.aud, sub=args.sub,
                                accept=args.accept)
            _out(json.dumps(claims["dat"], separators=(",", ":"), ensure_ascii=False), sys.stdout)
        return 0
    except ref.TesseraError as e:
        _out(f"error: {e.code}: {e.message}", sys.stderr)
        return 1
    except (OSError, ValueError, ref.CryptoUnavailable) as e:
        _out(f"error: {e}", sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
