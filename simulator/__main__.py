"""`python -m simulator serve --host 127.0.0.1 --port P --seed N --scale S [--faults PROFILE]`."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from simulator.faults import PROFILES, config_from


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve all five vendor APIs over one synthetic world")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--scale", type=float, default=1.0, help="world size; 1 = 2,500 visitors")
    serve.add_argument("--faults", choices=sorted(PROFILES), default="none", help="fault injection profile")
    serve.add_argument("--cm-work-budget", type=int, default=20_000,
                       help="ClickMagick work units allowed per API key per 5 minutes")
    args = parser.parse_args(argv)

    from simulator.sandbox import Sandbox  # heavy imports only once the arguments are valid

    started = time.monotonic()
    sandbox = Sandbox(seed=args.seed, scale=args.scale, faults=config_from(args.faults),
                      cm_work_budget=args.cm_work_budget)
    server = sandbox.serve(args.host, args.port)
    print(f"sandbox listening on {sandbox.base_url} (seed {args.seed}, scale {args.scale}, faults {args.faults}, "
          f"ready in {time.monotonic() - started:.1f}s)")
    for name, info in sandbox.describe().items():
        creds = ", ".join(f"{k}={v}" for k, v in info["credentials"].items())
        print(f"  {name:<12} {info['base_url']:<40} {creds}")
    print(f"  control      {sandbox.base_url}/_sim/  (truth, truth/conversions, advance, received, faults)")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
