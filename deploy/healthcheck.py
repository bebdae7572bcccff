"""Docker HEALTHCHECK for any Regia service: 200 from /health/ready on the service's port.

The image serves one of four services, each reading its port from REGIA_<NAME>_PORT; the
container's environment sets exactly one of them, so that one is probed.
"""

import os
import sys
import urllib.request

PORT_VARS = ("REGIA_FUNDING_PORT", "REGIA_OBJECTIVES_PORT", "REGIA_PARTNERS_PORT", "REGIA_NOTIFIER_PORT")


def main() -> int:
    ports = [os.environ[var] for var in PORT_VARS if os.environ.get(var)]
    if len(ports) != 1:
        print(f"set exactly one of {', '.join(PORT_VARS)}", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/health/ready", timeout=2) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as exc:  # refused, timed out, or 503 (HTTPError is an OSError)
        print(f"not ready: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
