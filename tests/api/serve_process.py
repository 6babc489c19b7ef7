"""A ``satya serve`` worker as its own process, optionally slowed (for the PostgreSQL tests).

    python tests/api/serve_process.py PORT [--verify-min-s S] [--lease-ttl-s T]

Reads SATYA_HOME and DATABASE_URL like ``satya serve``; the same ``create_app``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import uvicorn
from api_harness import slowed

from agent.server import ServerSettings, create_app
from agent.settings import Settings


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--verify-min-s", type=float)
    p.add_argument("--lease-ttl-s", type=float)
    p.add_argument("--rescan-s", type=float)
    p.add_argument("--storage-delay-s", type=float)
    args = p.parse_args()
    factory = slowed(
        verify_min_s=args.verify_min_s,
        lease_ttl_s=args.lease_ttl_s,
        rescan_s=args.rescan_s,
        storage_delay_s=args.storage_delay_s,
    )
    app = create_app(Settings(), ServerSettings(), assistant_factory=factory)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
