#!/bin/bash
# Runs once, when the postgres container initialises its data directory (as the superuser
# POSTGRES_USER). The helpdesk connects as an ordinary role: row-level security does not
# apply to superusers, so the application must never use one.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v role="${HELPDESK_DB_USER:-helpdesk}" -v password="${HELPDESK_DB_PASSWORD:-helpdesk}" \
     -v dbname="${HELPDESK_DB_NAME:-helpdesk}" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password' NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
CREATE DATABASE :"dbname" OWNER :"role";
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
SQL
