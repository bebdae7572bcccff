#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# One login role per service, owning the one schema that service works in: a service
# cannot read or change another's tables, and none may create anything outside its
# schema. Passwords come from compose's .env (`regia deploy-secrets`); PostgreSQL keeps
# only their SCRAM hashes. Values are passed as psql variables, never spliced into SQL.
set -eu

SERVICES="funding objectives partners notifier"

# Every password is checked before anything is made: the image runs init scripts only on
# an empty volume, so a half-made set of roles would not be finished by a restart.
for service in $SERVICES; do
  variable="REGIA_$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  if [ -z "$(printenv "$variable" || true)" ]; then
    echo "10-regia-roles.sh: $variable is not set (run 'regia deploy-secrets')" >&2
    exit 1
  fi
done

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v db="$POSTGRES_DB" <<'SQL'
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL

for service in $SERVICES; do
  password="$(printenv "REGIA_$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD")"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
       -v db="$POSTGRES_DB" -v role="regia_$service" -v schema="$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";
CREATE SCHEMA :"schema" AUTHORIZATION :"role";
SQL
done
