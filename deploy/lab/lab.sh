#!/usr/bin/env bash
# The auditfwd PostgreSQL lab: a private PostgreSQL cluster that plays the IBM i
# services auditfwd reads (SYSTOOLS.AUDIT_JOURNAL_JS, QSYS2.JOURNAL_RECEIVER_INFO),
# reached through unixODBC + psqlODBC. See README.md next to this file.
#
#   lab.sh start | stop | status
#   lab.sh new-db NAME
#   lab.sh reload-template
#   lab.sh odbc-connection-string [DB]
#   lab.sh psql [DB] [psql args...]
#
# Environment: LAB_DIR (default /tmp/auditfwd-lab), LAB_PORT (default 54329),
# LAB_PG_BIN (default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail

LAB_DIR="${LAB_DIR:-/tmp/auditfwd-lab}"
LAB_PORT="${LAB_PORT:-54329}"
LAB_HOST=127.0.0.1
LAB_ROLE=auditfwd
LAB_PASSWORD=lab
LAB_TEMPLATE=auditfwd_lab_template
# A ready database cloned from the template by `start`, for manual use.
LAB_DEFAULT_DB=auditfwd_lab
ODBC_DRIVER="PostgreSQL Unicode"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCHEMA_SQL="$HERE/schema.sql"
TYPES_SQL="$HERE/types.sql"
CATALOG_SQL="$HERE/catalog.sql"
DATA_DIR="$LAB_DIR/data"
LOG_FILE="$LAB_DIR/server.log"
INSTALL_HINT="apt-get install postgresql unixodbc odbc-postgresql"

die() {
    echo "lab.sh: $*" >&2
    exit 1
}

find_pg_bin() {
    if [[ -n "${LAB_PG_BIN:-}" ]]; then
        echo "$LAB_PG_BIN"
        return
    fi
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$dir" ]] && command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir)"
    fi
    echo "$dir"
}

PG_BIN="$(find_pg_bin)"

need_pg() {
    local tool
    for tool in initdb pg_ctl pg_isready psql; do
        [[ -n "$PG_BIN" && -x "$PG_BIN/$tool" ]] ||
            die "PostgreSQL server binary '$tool' not found (looked in '${PG_BIN:-/usr/lib/postgresql/*/bin}'): $INSTALL_HINT"
    done
}

need_odbc_driver() {
    command -v odbcinst >/dev/null 2>&1 || die "unixODBC (odbcinst) not found: $INSTALL_HINT"
    odbcinst -q -d -n "$ODBC_DRIVER" >/dev/null 2>&1 ||
        die "ODBC driver '$ODBC_DRIVER' is not registered in $(odbcinst -j | sed -n 's/^DRIVERS\.*: //p'): $INSTALL_HINT"
}

# The cluster belongs to `postgres` when we run as root (initdb refuses root),
# otherwise to whoever runs this script.
os_user() {
    if [[ "$(id -u)" -eq 0 ]]; then echo postgres; else id -un; fi
}

as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

is_running() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] && as_owner "$PG_BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

# psql as the superuser over the private unix socket (trust), no password needed.
super_psql() {
    as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$LAB_DIR" -p "$LAB_PORT" -U postgres "$@"
}

# psql as the lab role over the private unix socket, so objects are owned by it.
role_psql_local() {
    as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$LAB_DIR" -p "$LAB_PORT" -U "$LAB_ROLE" "$@"
}

db_exists() {
    [[ "$(super_psql -d postgres -At -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" == 1 ]]
}

valid_db_name() {
    [[ "$1" =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] || die "invalid database name '$1' (letters, digits, underscores; 63 max)"
}

init_cluster() {
    local owner
    owner="$(os_user)"
    mkdir -p "$LAB_DIR"
    chown "$owner" "$LAB_DIR"
    chmod 0700 "$LAB_DIR"
    if [[ -f "$DATA_DIR/PG_VERSION" ]]; then
        return
    fi
    echo "lab.sh: creating cluster in $DATA_DIR" >&2
    as_owner "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    # Appended settings win over initdb's defaults.
    cat >>"$DATA_DIR/postgresql.conf" <<EOF

# --- auditfwd lab ---
listen_addresses = '$LAB_HOST'
port = $LAB_PORT
unix_socket_directories = '$LAB_DIR'
max_connections = 200
password_encryption = 'scram-sha-256'
# A lab: durability is not wanted, speed is.
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = '256MB'
work_mem = '16MB'
maintenance_work_mem = '256MB'
max_wal_size = '2GB'
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_min_messages = warning
# Count calls of the stand-in table functions (pg_stat_user_functions).
track_functions = 'pl'
EOF
    # Host connections: password (SCRAM) on loopback only; the unix socket lives in
    # the 0700 lab directory and trusts local users of that directory.
    cat >"$DATA_DIR/pg_hba.conf" <<EOF
# auditfwd lab
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
EOF
}

ensure_role_and_databases() {
    # Count calls of the stand-in functions in pg_stat_user_functions (also on
    # clusters made before this setting existed).
    if [[ "$(super_psql -d postgres -At -c "SHOW track_functions")" != pl ]]; then
        super_psql -d postgres -c "ALTER SYSTEM SET track_functions = 'pl'" -c "SELECT pg_reload_conf()" >/dev/null
    fi
    super_psql -d postgres <<EOF
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$LAB_ROLE', '$LAB_PASSWORD')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$LAB_ROLE') \gexec
ALTER ROLE $LAB_ROLE LOGIN CREATEDB PASSWORD '$LAB_PASSWORD';
EOF
    # A template loaded from older SQL files is made again, and the default
    # database with it: a lab started long ago must not test today's daemon
    # against yesterday's stand-in functions.
    if db_exists "$LAB_TEMPLATE" && [[ "$(template_sum)" != "$(schema_sum)" ]]; then
        echo "lab.sh: the lab's SQL changed; loading the template again" >&2
        super_psql -d postgres -c "DROP DATABASE IF EXISTS $LAB_DEFAULT_DB WITH (FORCE)" >/dev/null
        super_psql -d postgres -c "DROP DATABASE IF EXISTS $LAB_TEMPLATE" >/dev/null
    fi
    if ! db_exists "$LAB_TEMPLATE"; then
        create_template
    fi
    if ! db_exists "$LAB_DEFAULT_DB"; then
        super_psql -d postgres -c "CREATE DATABASE $LAB_DEFAULT_DB TEMPLATE $LAB_TEMPLATE OWNER $LAB_ROLE"
    fi
}

# The checksum of the SQL files a template is loaded from.
schema_sum() {
    cat "$SCHEMA_SQL" "$TYPES_SQL" "$CATALOG_SQL" | sha256sum | cut -c1-16
}

# The checksum the template was loaded from (empty for one made before).
template_sum() {
    super_psql -d postgres -At -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$LAB_TEMPLATE'"
}

create_template() {
    [[ -f "$SCHEMA_SQL" ]] || die "schema file not found: $SCHEMA_SQL"
    super_psql -d postgres -c "CREATE DATABASE $LAB_TEMPLATE OWNER $LAB_ROLE"
    # Loaded as the lab role (not the superuser) so it owns every object.
    if ! role_psql_local -d "$LAB_TEMPLATE" -f "$SCHEMA_SQL" >/dev/null; then
        super_psql -d postgres -c "DROP DATABASE IF EXISTS $LAB_TEMPLATE" || true
        die "loading $SCHEMA_SQL failed; template database dropped"
    fi
    # The other audit types (generated from the catalog), on top of the JS schema.
    if ! role_psql_local -d "$LAB_TEMPLATE" -f "$TYPES_SQL" >/dev/null; then
        super_psql -d postgres -c "DROP DATABASE IF EXISTS $LAB_TEMPLATE" || true
        die "loading $TYPES_SQL failed; template database dropped"
    fi
    if ! role_psql_local -d "$LAB_TEMPLATE" -f "$CATALOG_SQL" >/dev/null; then
        super_psql -d postgres -c "DROP DATABASE IF EXISTS $LAB_TEMPLATE" || true
        die "loading $CATALOG_SQL failed; template database dropped"
    fi
    super_psql -d postgres -c "COMMENT ON DATABASE $LAB_TEMPLATE IS '$(schema_sum)'" >/dev/null
}

cmd_start() {
    need_pg
    init_cluster
    if ! is_running; then
        if ! as_owner "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t 60 start >/dev/null; then
            tail -n 20 "$LOG_FILE" >&2 || true
            die "the server did not start (log: $LOG_FILE)"
        fi
    fi
    ensure_role_and_databases
    echo "lab.sh: running on $LAB_HOST:$LAB_PORT (data $DATA_DIR, log $LOG_FILE)" >&2
}

cmd_stop() {
    need_pg
    if is_running; then
        as_owner "$PG_BIN/pg_ctl" -D "$DATA_DIR" -m fast -w stop >/dev/null
    fi
}

cmd_status() {
    need_pg
    "$PG_BIN/pg_isready" -q -h "$LAB_HOST" -p "$LAB_PORT"
}

cmd_new_db() {
    [[ $# -eq 1 ]] || die "usage: lab.sh new-db NAME"
    need_pg
    valid_db_name "$1"
    super_psql -d postgres -c "CREATE DATABASE $1 TEMPLATE $LAB_TEMPLATE OWNER $LAB_ROLE"
}

# Rebuild the template from schema.sql (after editing it). Existing databases keep
# their old schema; create new ones with new-db.
cmd_reload_template() {
    need_pg
    super_psql -d postgres -c "DROP DATABASE IF EXISTS $LAB_TEMPLATE"
    create_template
}

cmd_odbc_connection_string() {
    [[ $# -le 1 ]] || die "usage: lab.sh odbc-connection-string [DB]"
    need_odbc_driver
    local db="${1:-$LAB_DEFAULT_DB}"
    valid_db_name "$db"
    printf 'Driver={%s};Server=%s;Port=%s;Database=%s;UID=%s;PWD=%s;UseDeclareFetch=1;Fetch=1000\n' \
        "$ODBC_DRIVER" "$LAB_HOST" "$LAB_PORT" "$db" "$LAB_ROLE" "$LAB_PASSWORD"
}

cmd_psql() {
    need_pg
    local db="$LAB_DEFAULT_DB"
    if [[ $# -gt 0 && "$1" != -* ]]; then
        db="$1"
        shift
    fi
    PGPASSWORD="$LAB_PASSWORD" exec "$PG_BIN/psql" -X -h "$LAB_HOST" -p "$LAB_PORT" -U "$LAB_ROLE" -d "$db" "$@"
}

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
command="$1"
shift
case "$command" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    new-db) cmd_new_db "$@" ;;
    reload-template) cmd_reload_template "$@" ;;
    odbc-connection-string) cmd_odbc_connection_string "$@" ;;
    psql) cmd_psql "$@" ;;
    -h | --help | help) usage ;;
    *) die "unknown command '$command' (start, stop, status, new-db, reload-template, odbc-connection-string, psql)" ;;
esac
