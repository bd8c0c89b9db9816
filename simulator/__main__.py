"""The vendor sandbox.

    python -m simulator serve --host 127.0.0.1 --port P --seed N --scale S [--faults PROFILE] [--world NAME]
                         [--no-channel-chance P] [--identity hard|easy]
    python -m simulator ctl URL advance HOURS | truth | conversions | effects | received
                                | faults [PROFILE] [KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from simulator.causal import WORLDS
from simulator.faults import PROFILES, config_from
from simulator.identity import DEFAULT_IDENTITY, IDENTITIES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve all five vendor APIs over one synthetic world")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--scale", type=float, default=1.0, help="world size; 1 = 2,500 visitors")
    serve.add_argument("--faults", choices=sorted(PROFILES), default="none", help="fault injection profile")
    serve.add_argument("--world", choices=list(WORLDS), default="default",
                       help="the causal model that makes visitors convert (SCHEMA.md, 'World variants')")
    serve.add_argument("--no-channel-chance", type=float, default=None, metavar="P",
                       help="p(∅), the chance of converting had no channel reached a visitor, if not the world's "
                            "form's: the same data, another truth (SCHEMA.md, 'What no data show')")
    serve.add_argument("--identity", choices=list(IDENTITIES), default=DEFAULT_IDENTITY,
                       help="how hard the vendors' records are to tie together (SCHEMA.md: Identity)")
    serve.add_argument("--work-budget", type=int, default=20_000,
                       help="work units allowed per API key per 5 minutes, for vendors that meter work")
    ctl = sub.add_parser("ctl", help="drive a running sandbox through its /_sim/ control endpoints")
    ctl.add_argument("url", help="the sandbox root, e.g. http://127.0.0.1:8765")
    ctl.add_argument("action", choices=["advance", "truth", "conversions", "effects", "received", "faults"])
    ctl.add_argument("values", nargs="*", help="advance: HOURS; faults: [PROFILE] [KEY=VALUE ...]")
    args = parser.parse_args(argv)
    if args.command == "serve":
        try:  # the causal model's own check, as an argument error before any world is made
            WORLDS[args.world].with_no_channel(args.no_channel_chance)
        except ValueError as invalid:
            parser.error(f"--no-channel-chance: {invalid}")
    if args.command == "ctl":
        return control(args.url, args.action, args.values)

    from simulator.sandbox import Sandbox  # heavy imports only once the arguments are valid

    started = time.monotonic()
    sandbox = Sandbox(seed=args.seed, scale=args.scale, faults=config_from(args.faults),
                      work_budget=args.work_budget, world=args.world, identity=args.identity,
                      no_channel=args.no_channel_chance)
    server = sandbox.serve(args.host, args.port)
    no_channel = f" (p(∅) {args.no_channel_chance})" if args.no_channel_chance is not None else ""
    print(f"sandbox listening on {sandbox.base_url} (seed {args.seed}, scale {args.scale}, faults {args.faults}, "
          f"world {args.world}{no_channel}, identity {args.identity}, ready in {time.monotonic() - started:.1f}s)")
    for name, info in sandbox.describe().items():
        creds = ", ".join(f"{k}={v}" for k, v in info["credentials"].items())
        print(f"  {name:<12} {info['base_url']:<40} {creds}")
    print(f"  control      {sandbox.base_url}/_sim/  (truth, truth/conversions, truth/channel_effects, advance, "
          "received, faults)")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def control(url: str, action: str, values: list[str]) -> int:
    import json

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... conversions | head` ends quietly, like any Unix tool

    from simulator.process import call_control

    if action == "advance":
        result = call_control(url, "POST", f"advance?hours={float(values[0]) if values else 24.0}")
    elif action == "faults" and values:
        settings = dict(v.split("=", 1) for v in values if "=" in v)
        profile = next((v for v in values if "=" not in v), None)
        body = {k: json.loads(v) if v[:1] in "0123456789-.[tf" else v for k, v in settings.items()}
        result = call_control(url, "POST", "faults", {"profile": profile, **body})
    else:
        path = {"truth": "truth", "conversions": "truth/conversions", "effects": "truth/channel_effects",
                "received": "received", "faults": "faults"}
        result = call_control(url, "GET", path[action])
    if isinstance(result, list):
        for line in result:
            print(json.dumps(line))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
