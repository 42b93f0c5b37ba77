"""Settings from the environment, read once into one frozen object."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_NOTICE_JOB_SECONDS = 30.0
DEFAULT_LOOKUP_RATE_PER_MINUTE = 600
# Bounds on a database outage (docs/operations.md, "When PostgreSQL is away").
DEFAULT_DB_CONNECT_TIMEOUT = 3.0
DEFAULT_DB_STATEMENT_TIMEOUT = 5.0
DEFAULT_DB_OUTAGE_LOG_SECONDS = 30.0
DEFAULT_RENDER_TIMEOUT_SECONDS = 60.0
DEFAULT_PUBLICATION_WAIT_SECONDS = 10.0
DEFAULT_DOCUMENT_MAX_ROWS = 5000


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told from outside.

    `database_url` empty means: start the embedded PostgreSQL in `data_dir`.
    """

    database_url: str | None = None
    migration_database_url: str | None = None
    data_dir: Path = Path("var")
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    log_format: str = "auto"  # auto | json | console
    log_level: str = "info"
    app_role: str = "schoolgate_app"
    audit_origin: str = "schoolgate.local/audit"
    audit_key_file: Path | None = None
    checkpoint_interval_seconds: float = 60.0
    notice_job_interval: float = DEFAULT_NOTICE_JOB_SECONDS  # seconds between runs of the notice job
    # JSON key document for personal data (service/security/keyring.py); kept out of repr.
    personal_data_keys: str | None = field(default=None, repr=False)
    lookup_rate_per_minute: int = DEFAULT_LOOKUP_RATE_PER_MINUTE  # per account; batch entries count one by one
    # Console cookies: "auto" marks them Secure when the request came over HTTPS (set
    # "always" behind a TLS-terminating proxy that does not pass the scheme on).
    secure_cookies: str = "auto"
    sign_in_delay_seconds: float = 0.5  # the first slowed failed sign-in; doubles after
    db_connect_timeout: float = DEFAULT_DB_CONNECT_TIMEOUT  # seconds to open a connection
    db_statement_timeout: float = DEFAULT_DB_STATEMENT_TIMEOUT  # seconds per statement (server; client +1 s)
    db_outage_log_interval: float = DEFAULT_DB_OUTAGE_LOG_SECONDS  # seconds between "still down" lines
    # PDFs: worker processes of the render pool, the time limit of one render (over it:
    # 503 and the process is killed), and the most rows a document may have (refused before).
    render_workers: int = 1
    render_timeout_seconds: float = DEFAULT_RENDER_TIMEOUT_SECONDS
    document_max_rows: int = DEFAULT_DOCUMENT_MAX_ROWS
    # Seconds a request for a published list (whitelist, notice board) waits while another
    # worker renders the same publication, before 503 `render_in_progress`.
    publication_wait_seconds: float = DEFAULT_PUBLICATION_WAIT_SECONDS
    # Webhooks (docs/webhooks.md): the admin's allow-list of hosts, the non-public
    # networks that may nevertheless be reached (none by default), and the dispatcher.
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_allowed_networks: tuple[str, ...] = ()
    webhook_interval: float = 2.0  # seconds between dispatcher rounds
    webhook_scan_interval: float = 60.0  # seconds between scans for time-driven standing changes
    webhook_timeout: float = 5.0  # seconds per POST
    webhook_retry_base: float = 10.0  # first retry after this; doubles, at most an hour
    webhook_max_attempts: int = 15
    # Reminders (docs/webhooks.md, "Reminders"): the sender by name (service/reminders/senders.py).
    reminder_sender: str = "log"
    reminder_interval: float = 300.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def signing_key_file(self) -> Path:
        return self.audit_key_file or self.data_dir / "keys" / "audit-ed25519.pem"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("SCHOOLGATE_DATABASE_URL") or None,
            migration_database_url=env.get("SCHOOLGATE_MIGRATION_DATABASE_URL") or None,
            data_dir=Path(env.get("SCHOOLGATE_DATA_DIR") or "var").resolve(),
            max_upload_bytes=int(env.get("SCHOOLGATE_MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD_BYTES),
            log_format=env.get("SCHOOLGATE_LOG_FORMAT") or "auto",
            log_level=env.get("SCHOOLGATE_LOG_LEVEL") or "info",
            app_role=env.get("SCHOOLGATE_APP_ROLE") or "schoolgate_app",
            audit_origin=env.get("SCHOOLGATE_AUDIT_ORIGIN") or "schoolgate.local/audit",
            audit_key_file=Path(env["SCHOOLGATE_AUDIT_KEY_FILE"]) if env.get("SCHOOLGATE_AUDIT_KEY_FILE") else None,
            checkpoint_interval_seconds=float(env.get("SCHOOLGATE_CHECKPOINT_INTERVAL") or 60),
            notice_job_interval=float(env.get("SCHOOLGATE_NOTICE_JOB_SECONDS") or DEFAULT_NOTICE_JOB_SECONDS),
            personal_data_keys=env.get("SCHOOLGATE_PERSONAL_DATA_KEYS") or None,
            lookup_rate_per_minute=int(env.get("SCHOOLGATE_LOOKUP_RATE_PER_MINUTE") or DEFAULT_LOOKUP_RATE_PER_MINUTE),
            secure_cookies=env.get("SCHOOLGATE_SECURE_COOKIES") or "auto",
            db_connect_timeout=_seconds(env, "SCHOOLGATE_DB_CONNECT_TIMEOUT", DEFAULT_DB_CONNECT_TIMEOUT),
            db_statement_timeout=_seconds(env, "SCHOOLGATE_DB_STATEMENT_TIMEOUT", DEFAULT_DB_STATEMENT_TIMEOUT),
            db_outage_log_interval=_seconds(env, "SCHOOLGATE_DB_OUTAGE_LOG_SECONDS", DEFAULT_DB_OUTAGE_LOG_SECONDS),
            render_workers=int(env.get("SCHOOLGATE_RENDER_WORKERS") or 1),
            render_timeout_seconds=float(env.get("SCHOOLGATE_RENDER_TIMEOUT") or DEFAULT_RENDER_TIMEOUT_SECONDS),
            document_max_rows=int(env.get("SCHOOLGATE_DOCUMENT_MAX_ROWS") or DEFAULT_DOCUMENT_MAX_ROWS),
            publication_wait_seconds=_seconds(env, "SCHOOLGATE_PUBLICATION_WAIT", DEFAULT_PUBLICATION_WAIT_SECONDS),
            webhook_allowed_hosts=_list(env, "SCHOOLGATE_WEBHOOK_ALLOWED_HOSTS"),
            webhook_allowed_networks=_list(env, "SCHOOLGATE_WEBHOOK_ALLOWED_NETWORKS"),
            webhook_interval=_seconds(env, "SCHOOLGATE_WEBHOOK_INTERVAL", 2.0),
            webhook_scan_interval=_seconds(env, "SCHOOLGATE_WEBHOOK_SCAN_INTERVAL", 60.0),
            webhook_timeout=_seconds(env, "SCHOOLGATE_WEBHOOK_TIMEOUT", 5.0),
            webhook_retry_base=_seconds(env, "SCHOOLGATE_WEBHOOK_RETRY_BASE", 10.0),
            webhook_max_attempts=int(env.get("SCHOOLGATE_WEBHOOK_MAX_ATTEMPTS") or 15),
            reminder_sender=env.get("SCHOOLGATE_REMINDER_SENDER") or "log",
            reminder_interval=_seconds(env, "SCHOOLGATE_REMINDER_INTERVAL", 300.0),
        )


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(part.strip() for part in (env.get(name) or "").split(",") if part.strip())


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    """A positive number of seconds; anything else is refused at start, naming the variable."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds, not {raw!r}")
    return value
