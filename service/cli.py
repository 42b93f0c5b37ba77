"""The `schoolgate` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from service.config import Settings
from service.logging import configure_logging, get_logger

log = get_logger("schoolgate.cli")


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str  # runs the migrations
    app: str  # what the service connects as: no UPDATE/DELETE on the audit trail


@contextmanager
def database(settings: Settings, revision: str = "head") -> Iterator[DatabaseUrls]:
    """The configured external database, or the embedded one started for this block.

    The schema is brought to `revision` (as the owner) before the block runs.
    """
    from service.db import as_role, embedded_postgres, upgrade

    if settings.database_url:
        urls = DatabaseUrls(owner=settings.migration_database_url or settings.database_url, app=settings.database_url)
        upgrade(urls.owner, revision, settings.app_role)
        yield urls
        return

    with embedded_postgres(settings.pg_dir) as url:
        upgrade(url, revision, settings.app_role)
        yield DatabaseUrls(owner=url, app=as_role(url, settings.app_role))


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so `finally` blocks (stopping PostgreSQL) run when it
    comes before the server is up (during migrations). Once serving, granian handles
    SIGTERM itself and returns after a graceful shutdown."""

    def handle(_signum, _frame):
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_serve(args: argparse.Namespace) -> int:
    from service.serving import serve

    settings = Settings.from_env()
    with sigterm_as_exit(), database(settings) as urls:
        os.environ["SCHOOLGATE_DATABASE_URL"] = urls.app  # worker processes inherit it
        log.info("serving", host=args.host, port=args.port, workers=args.workers)
        serve("service.app:create_app", host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    with database(Settings.from_env(), revision=args.revision):
        pass  # opening the database is what upgrades it
    print(f"database upgraded to {args.revision}")
    return 0


def cmd_db_revision(args: argparse.Namespace) -> int:
    from alembic import command

    from service.db import alembic_config

    with database(Settings.from_env()) as urls:
        command.revision(alembic_config(urls.owner), message=args.message, autogenerate=True)
    return 0


def _print_domain_error(error) -> int:
    print(f"错误 ({error.code}): {error.message}", file=sys.stderr)
    for detail in error.details:
        print(f"  {detail.get('field')}: {detail.get('message')}", file=sys.stderr)
    return 2


def _read_password() -> str:
    """One line from standard input (a pipe, or typed without echo on a terminal)."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("新密码: ")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_accounts_create(args: argparse.Namespace) -> int:
    import secrets

    from service.accounts import create_account
    from service.errors import DomainError

    password = None
    if args.login:
        # The initial password must be changed at the first sign-in.
        password = _read_password() if args.password_stdin else secrets.token_urlsafe(12)

    async def run(url: str):
        from service.db import Database
        from service.security import Actor

        db = Database(url)
        try:
            return await create_account(
                db,
                Actor.system(),
                role=args.role,
                name=args.name,
                region_code=args.region,
                school_code=args.school,
                school_name=args.school_name,
                vendor_credit_code=args.vendor,
                login=args.login,
                password=password,
            )
        finally:
            await db.dispose()

    with database(Settings.from_env()) as urls:
        try:
            created = asyncio.run(run(urls.app))
        except DomainError as error:
            return _print_domain_error(error)
    account = created.account
    print(f"account {account.id} role={account.role} region={account.region_code or '-'}")
    if args.login:
        print(
            f"login {account.login}"
            + ("" if args.password_stdin else f" initial password {password}")
            + " (must be changed at the first sign-in)"
        )
    print("token (shown once, store it now):")
    print(created.token)
    return 0


def _run_system(work) -> int:
    """Run `work(db, system_actor)` on the configured database; domain errors -> exit 2."""
    from service.errors import DomainError

    async def run(url: str) -> None:
        from service.db import Database
        from service.security import Actor

        db = Database(url)
        try:
            await work(db, Actor.system())
        finally:
            await db.dispose()

    with database(Settings.from_env()) as urls:
        try:
            asyncio.run(run(urls.app))
        except DomainError as error:
            return _print_domain_error(error)
    return 0


def cmd_accounts_set_password(args: argparse.Namespace) -> int:
    from service.accounts import set_password

    password = _read_password()

    async def work(db, system):
        await set_password(db, system, args.login, password, must_change=not args.no_change_required)

    code = _run_system(work)
    if code == 0:
        print("password set" + ("" if args.no_change_required else "; it must be changed at the next sign-in"))
    return code


def cmd_accounts_disable(args: argparse.Namespace) -> int:
    from service.accounts import account_id_by_login, set_disabled

    async def work(db, system):
        await set_disabled(db, system, await account_id_by_login(db, args.login), not args.enable)

    code = _run_system(work)
    if code == 0:
        print("account enabled" if args.enable else "account disabled; its sessions and tokens are revoked")
    return code


def cmd_accounts_revoke(args: argparse.Namespace) -> int:
    from service.accounts import revoke_token
    from service.errors import DomainError

    async def run(url: str) -> None:
        from service.db import Database
        from service.security import Actor

        db = Database(url)
        try:
            await revoke_token(db, Actor.system(), args.token)
        finally:
            await db.dispose()

    with database(Settings.from_env()) as urls:
        try:
            asyncio.run(run(urls.app))
        except DomainError as error:
            print(f"错误 ({error.code}): {error.message}", file=sys.stderr)
            return 2
    print("token revoked")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from service.demo import load_demo

    with database(Settings.from_env()) as urls:
        demo_accounts = asyncio.run(load_demo(urls.app, Settings.from_env()))
    print("demo data loaded. Sign in at http://127.0.0.1:8000 (after `schoolgate serve`) as:")
    for account in demo_accounts:
        print(f"  {account.label:<24} login {account.login:<10} password {account.password}")
    print("API tokens to try (new ones are issued on every run):")
    for account in demo_accounts:
        print(f"  {account.label:<24} {account.token}")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from service.audit import verify_cli

    argv = [args.bundle]
    if args.trusted_checkpoint:
        argv += ["--trusted-checkpoint", args.trusted_checkpoint]
    if args.public_key:
        argv += ["--public-key", args.public_key]
    return verify_cli.main(argv)


def cmd_audit_verify_record(args: argparse.Namespace) -> int:
    from service.audit import record_cli

    return record_cli.main(args.proof, args.public_key)


def cmd_receipts_verify(args: argparse.Namespace) -> int:
    from service.lookup import verify_cli

    argv = [args.file]
    if args.public_key:
        argv += ["--public-key", args.public_key]
    return verify_cli.main(argv)


class PrintVersions(argparse.Action):
    """`--version`: this package's version and the PostgreSQL server's; exit 1 when an
    external server does not answer."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="print the versions of schoolgate and of its PostgreSQL server, and exit",
        )

    def __call__(self, parser, namespace, values, option_string=None):
        from service.db import version_lines

        lines, found = version_lines(Settings.from_env().database_url)
        print("\n".join(lines))
        parser.exit(0 if found else 1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schoolgate", description="SchoolGate: 校外培训机构进校园白名单与人员核验服务"
    )
    parser.add_argument("--version", action=PrintVersions)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run the HTTP service (starts the embedded PostgreSQL when SCHOOLGATE_DATABASE_URL is unset)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=cmd_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply the migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=cmd_db_upgrade)
    rev = db.add_parser("revision", help="(developers) autogenerate a migration from the models")
    rev.add_argument("-m", "--message", required=True)
    rev.set_defaults(handler=cmd_db_revision)

    accounts = commands.add_parser("accounts", help="accounts and API tokens").add_subparsers(
        dest="accounts_command", required=True
    )
    create = accounts.add_parser("create", help="create an account and print its token once (last line)")
    create.add_argument("--role", required=True, choices=["vendor", "school", "reviewer", "auditor", "admin"])
    create.add_argument("--name", required=True)
    create.add_argument("--region", help="GB/T 2260 code (reviewer, auditor, school)")
    create.add_argument("--school", help="10-digit school code (school accounts; created if unknown)")
    create.add_argument("--school-name", help="the school's name when it is created (default: --name)")
    create.add_argument("--vendor", help="unified social credit code the vendor account is bound to")
    create.add_argument(
        "--login",
        help="console login name; an initial password is generated and printed, "
        "and must be changed at the first sign-in",
    )
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the initial password from standard input instead of generating one",
    )
    create.set_defaults(handler=cmd_accounts_create)
    setpw = accounts.add_parser("set-password", help="set (reset) a console password, read from standard input")
    setpw.add_argument("login")
    setpw.add_argument(
        "--no-change-required", action="store_true", help="do not ask for a new password at the next sign-in"
    )
    setpw.set_defaults(handler=cmd_accounts_set_password)
    disable = accounts.add_parser("disable", help="disable an account: ends its sessions, revokes its tokens")
    disable.add_argument("login")
    disable.add_argument("--enable", action="store_true", help="enable the account again instead")
    disable.set_defaults(handler=cmd_accounts_disable)
    revoke = accounts.add_parser("revoke", help="revoke an API token")
    revoke.add_argument("--token", required=True)
    revoke.set_defaults(handler=cmd_accounts_revoke)

    audit = commands.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser("verify", help="verify an exported audit bundle offline (no service or database)")
    verify.add_argument("bundle", help="the bundle from GET /api/v1/audit/export (NDJSON, .gz, or - for stdin)")
    verify.add_argument(
        "--trusted-checkpoint",
        help="a checkpoint saved earlier (JSON of "
        "/api/v1/audit/checkpoints/latest, or its note): "
        "the log must extend it",
    )
    verify.add_argument(
        "--public-key",
        help="file with the log's key (JSON of /api/v1/audit/keys or /api/v1/keys, "
        "PEM, vkey or base64); default: the key in the bundle, with a warning",
    )
    verify.set_defaults(handler=cmd_audit_verify)
    record = audit.add_parser(
        "verify-record", help="verify one imported record's proof offline (GET /api/v1/checks/{check_id}/proof)"
    )
    record.add_argument("proof", help="the proof JSON ('-' for stdin)")
    record.add_argument(
        "--public-key",
        required=True,
        help="file with the log's verifier key (the vkey, or the JSON of /api/v1/audit/keys)",
    )
    record.set_defaults(handler=cmd_audit_verify_record)

    receipts = commands.add_parser("receipts", help="lookup receipts").add_subparsers(
        dest="receipts_command", required=True
    )
    check = receipts.add_parser("verify", help="verify a lookup receipt offline (no service or database)")
    check.add_argument("file", help="the JSON of GET /api/v1/receipts/{id}, or its PDF (/{id}.pdf); '-' for stdin")
    check.add_argument(
        "--public-key",
        help="file with the service key (JSON of GET /api/v1/keys, PEM, vkey or "
        "base64); default: the key inside the receipt, with a warning",
    )
    check.set_defaults(handler=cmd_receipts_verify)

    demo = commands.add_parser("demo", help="load a small Jiangxi demo data set and print tokens to try")
    demo.set_defaults(handler=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.log_level)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
