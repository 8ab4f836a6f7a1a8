"""The `partnerpoints` command: developer tools around the template and the local stack."""

from __future__ import annotations

import argparse

from partnerpoints_infra import admin, demo, openapi, template
from partnerpoints_infra.local import commands as local_commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="partnerpoints", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the demo scenario on the local stack", add_help=False)
    commands.add_parser("translate", help="write template.yaml as plain CloudFormation JSON", add_help=False)
    commands.add_parser("openapi", help="write docs/openapi.json (--check: fail if stale)", add_help=False)
    local_commands.add_parser(commands)
    admin.add_parser(commands)
    args, rest = parser.parse_known_args(argv)
    if args.command == "demo":
        return demo.main(rest)
    if args.command == "openapi":
        return openapi.main(rest)
    if args.command in ("local", "admin"):
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return local_commands.run(args) if args.command == "local" else admin.run(args)
    template.main(rest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
