#!/bin/sh
# First-run setup of Metabase through its API: the admin user and the reporting database,
# connected as the read-only role cx_bi. Does nothing when Metabase is already set up.
# Use URL-safe secrets in .env (letters, digits, - and _): they are placed into JSON as is.
set -eu

token=$(curl -sf "$METABASE_URL/api/session/properties" | sed -n 's/.*"setup-token":"\([^"]*\)".*/\1/p')
if [ -z "$token" ]; then
  echo "Metabase is already set up; nothing to do"
  exit 0
fi

curl -sf -X POST "$METABASE_URL/api/setup" -H 'Content-Type: application/json' -d @- <<JSON
{
  "token": "$token",
  "user": {"email": "$METABASE_ADMIN_EMAIL", "password": "$METABASE_ADMIN_PASSWORD",
           "first_name": "cxpipe", "last_name": "admin", "site_name": "cxpipe"},
  "prefs": {"site_name": "cxpipe", "allow_tracking": false},
  "database": {"engine": "postgres", "name": "cxpipe reporting",
               "details": {"host": "postgres", "port": 5432, "dbname": "cx_reporting",
                           "user": "cx_bi", "password": "$CX_BI_PASSWORD", "ssl": false}}
}
JSON
echo "Metabase set up: database 'cxpipe reporting' as cx_bi"
