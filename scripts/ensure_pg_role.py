#!/usr/bin/env python3
"""Create the ordinary PostgreSQL role (and database) the helpdesk and its tests connect as.

Row-level security does not apply to superusers, so tests must not run as one. This
connects as an administrative user (PGADMIN_URL, default postgres@<host of DATABASE_URL>)
and creates the role named in DATABASE_URL with LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS,
and its database, if missing. When that connection is refused and this runs as root on the
database's machine, it asks the local ``postgres`` account through ``runuser … psql``.
Finally it connects as the role and says whether it would bypass RLS.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from urllib.parse import unquote, urlparse

import psycopg
from psycopg import sql


def statements(role: str, password: str | None, dbname: str, *, exists: bool, db_exists: bool) -> list[sql.Composed]:
    ident = sql.Identifier(role)
    verb = "ALTER" if exists else "CREATE"
    todo = [sql.SQL(verb + " ROLE {} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS").format(ident)]
    if password:
        todo.append(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)))
    if not db_exists:
        todo.append(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), ident))
    return todo


def ensure_over_tcp(admin_url: str, role: str, password: str | None, dbname: str) -> None:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        exists = bool(conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone())
        db_exists = bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone())
        for statement in statements(role, password, dbname, exists=exists, db_exists=db_exists):
            conn.execute(statement)


def ensure_as_local_postgres(role: str, password: str | None, dbname: str, port: int) -> bool:
    """Fallback for root on the database host: run psql as the ``postgres`` OS account."""
    if os.geteuid() != 0 or not shutil.which("runuser") or not shutil.which("psql"):
        return False

    def psql(query: str) -> str:
        done = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-p", str(port), "-d", "postgres",
                               "-v", "ON_ERROR_STOP=1", "-tAc", query],
                              capture_output=True, text=True, timeout=30, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        return done.stdout.strip()

    try:
        exists = psql(sql.SQL("SELECT 1 FROM pg_roles WHERE rolname = {}").format(role).as_string()) == "1"
        db_exists = psql(sql.SQL("SELECT 1 FROM pg_database WHERE datname = {}").format(dbname).as_string()) == "1"
        for statement in statements(role, password, dbname, exists=exists, db_exists=db_exists):
            psql(statement.as_string())
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"ensure_pg_role: psql as postgres failed: {exc}", file=sys.stderr)
        return False
    return True


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "postgresql://helpdesk@127.0.0.1:5432/helpdesk")
    url = urlparse(database_url)
    role = unquote(url.username or "helpdesk")
    password = unquote(url.password) if url.password else None
    dbname = unquote((url.path or "/").lstrip("/")) or role
    host, port = url.hostname or "127.0.0.1", url.port or 5432
    admin_url = os.environ.get("PGADMIN_URL", f"postgresql://postgres@{host}:{port}/postgres")

    try:
        ensure_over_tcp(admin_url, role, password, dbname)
    except psycopg.OperationalError as exc:
        local = host in ("127.0.0.1", "localhost", "::1")
        if not (local and ensure_as_local_postgres(role, password, dbname, port)):
            # Not fatal: a managed database may already provide the role and database.
            print(f"ensure_pg_role: could not connect as administrator ({str(exc).strip()}); "
                  "assuming the role exists", file=sys.stderr)

    try:
        with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"),
                             connect_timeout=5) as conn:
            superuser, bypass = conn.execute(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
    except psycopg.OperationalError as exc:
        print(f"ensure_pg_role: cannot connect as {role!r} to {dbname!r} on {host}:{port}: "
              f"{str(exc).strip()}", file=sys.stderr)
        return 1
    if superuser or bypass:
        print(f"ensure_pg_role: warning: {role!r} is a superuser or bypasses RLS; row-level security "
              "will not apply to it", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
