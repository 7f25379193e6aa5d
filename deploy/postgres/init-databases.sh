#!/usr/bin/env bash
# Runs once, on the first start of an empty PostgreSQL volume (docker-entrypoint-initdb.d).
# Databases: airflow (metadata), metabase (Metabase's own state), cx_reporting (reporting tables).
# Roles: cx_publisher owns cx_reporting and publishes into its schema `reporting` (cxpipe's
# publish swaps schemas and maintains cx_bi's grants and password, hence CREATEROLE and ADMIN
# on cx_bi); cx_bi may only read `reporting` (what BI tools connect as).
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v metabase_pw="$METABASE_DB_PASSWORD" \
  -v publisher_pw="$CX_PUBLISHER_PASSWORD" -v bi_pw="$CX_BI_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE metabase LOGIN PASSWORD :'metabase_pw';
CREATE DATABASE metabase OWNER metabase;
CREATE ROLE cx_publisher LOGIN CREATEROLE PASSWORD :'publisher_pw';
CREATE ROLE cx_bi LOGIN NOINHERIT PASSWORD :'bi_pw';
GRANT cx_bi TO cx_publisher WITH ADMIN OPTION;
CREATE DATABASE cx_reporting OWNER cx_publisher;
REVOKE ALL ON DATABASE cx_reporting FROM PUBLIC;
GRANT CONNECT ON DATABASE cx_reporting TO cx_publisher, cx_bi;
SQL

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname cx_reporting <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER ROLE cx_bi SET default_transaction_read_only = on;
SQL
