#!/usr/bin/env python3
"""Create the ordinary PostgreSQL role the helpdesk and its tests connect as.

Row-level security does not apply to superusers, so tests must not run as one. This
connects as an administrative user (PGADMIN_URL, default postgres@127.0.0.1) and creates
the role named in DATABASE_URL with LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS, if missing.
"""
import os
import sys
from urllib.parse import urlparse

import psycopg

url = urlparse(os.environ["DATABASE_URL"])
role = url.username or "helpdesk"
password = url.password
admin_url = os.environ.get("PGADMIN_URL", f"postgresql://postgres@{url.hostname or '127.0.0.1'}:{url.port or 5432}/postgres")

try:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        ident = psycopg.sql.Identifier(role)
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS").format(ident))
        else:
            conn.execute(psycopg.sql.SQL("ALTER ROLE {} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS").format(ident))
        if password:
            conn.execute(psycopg.sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, psycopg.sql.Literal(password)))
        dbname = (url.path or "/").lstrip("/") or role
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone():
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {} OWNER {}").format(psycopg.sql.Identifier(dbname), ident))
except psycopg.OperationalError as exc:
    # Not fatal: a managed database may already provide the role and database.
    print(f"ensure_pg_role: could not connect as administrator ({exc}); assuming the role exists", file=sys.stderr)
