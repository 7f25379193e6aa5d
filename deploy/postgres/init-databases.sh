#!/usr/bin/env bash
# Runs once, on the first start of an empty PostgreSQL volume (docker-entrypoint-initdb.d).
# Databases: airflow (metadata), metabase (Metabase's own state), cx_reporting (reporting tables).
# Roles: cx_publisher writes cx_reporting; cx_bi may only read it (what BI tools connect as).
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v metabase_pw="$METABASE_DB_PASSWORD" \
  -v publisher_pw="$CX_PUBLISHER_PASSWORD" -v bi_pw="$CX_BI_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE metabase LOGIN PASSWORD :'metabase_pw';
CREATE DATABASE metabase OWNER metabase;
CREATE ROLE cx_publisher LOGIN PASSWORD :'publisher_pw';
CREATE ROLE cx_bi LOGIN PASSWORD :'bi_pw';
CREATE DATABASE cx_reporting OWNER cx_publisher;
REVOKE ALL ON DATABASE cx_reporting FROM PUBLIC;
GRANT CONNECT ON DATABASE cx_reporting TO cx_publisher, cx_bi;
SQL

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname cx_reporting <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO cx_publisher;
GRANT USAGE ON SCHEMA public TO cx_bi;
ALTER DEFAULT PRIVILEGES FOR ROLE cx_publisher IN SCHEMA public GRANT SELECT ON TABLES TO cx_bi;
ALTER ROLE cx_bi SET default_transaction_read_only = on;
SQL
