#!/usr/bin/env bash
# Private rsyslog instance for auditfwd's syslog-sink integration tests.
#
# Usage: rsyslog.sh {start|stop|restart|kill|paths|status} DIR
#
# Listeners (127.0.0.1 only; port from env var, else the port saved in
# DIR/ports.env by an earlier start, else the default):
#   tcp  SYSLOG_TCP_PORT  =16514  imtcp plain, octet-counted (RFC 6587) and LF framing
#   tls  SYSLOG_TLS_PORT  =16515  imtcp + gtls, server cert from DIR/tls, no client cert (anon)
#   relp SYSLOG_RELP_PORT =16516  imrelp, plain
#   udp  SYSLOG_UDP_PORT  =16517  imudp
#   mtls SYSLOG_MTLS_PORT =16518  imtcp + gtls, client cert signed by DIR/tls/ca.pem required
#                                 (authmode x509/certvalid)
# TLS listeners use GnuTLS priority SYSLOG_TLS_PRIORITY (default NORMAL: TLS 1.3 + 1.2).
# Every received message is appended as one JSON object per line to
# DIR/out/<listener>.jsonl. rsyslogd's own messages go to DIR/rsyslogd.log.
# See README.md next to this file.
set -euo pipefail

die() { echo "rsyslog.sh: $*" >&2; exit 1; }

usage() {
    echo "usage: $0 {start|stop|restart|kill|paths|status} DIR" >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
CMD=$1
DIR_ARG=$2

RSYSLOGD=${RSYSLOGD:-rsyslogd}
START_TIMEOUT=${SYSLOG_START_TIMEOUT:-20}   # seconds
STOP_TIMEOUT=${SYSLOG_STOP_TIMEOUT:-15}     # seconds

init_paths() {
    mkdir -p "$DIR_ARG"
    DIR=$(cd "$DIR_ARG" && pwd -P)
    # DIR is embedded in double-quoted rsyslog config strings.
    case $DIR in *'"'* | *'\'* | *$'\n'*) die "unsupported character in DIR '$DIR'" ;; esac
    TLS_DIR=$DIR/tls
    OUT_DIR=$DIR/out
    WORK_DIR=$DIR/work
    CONF=$DIR/rsyslog.conf
    PIDFILE=$DIR/rsyslogd.pid
    INTERNAL_LOG=$DIR/rsyslogd.log
    STDERR_LOG=$DIR/rsyslogd.stderr
    PORTS_FILE=$DIR/ports.env
    CA=$TLS_DIR/ca.pem
    CA_KEY=$TLS_DIR/ca-key.pem
    CERT=$TLS_DIR/server.pem
    KEY=$TLS_DIR/server-key.pem
    CLIENT_CERT=$TLS_DIR/client.pem
    CLIENT_KEY=$TLS_DIR/client-key.pem
}

# Port resolution: explicit env var > DIR/ports.env (previous start) > default.
resolve_ports() {
    local saved_tcp="" saved_tls="" saved_mtls="" saved_relp="" saved_udp=""
    if [[ -f $PORTS_FILE ]]; then
        saved_tcp=$(sed -n 's/^SYSLOG_TCP_PORT=//p' "$PORTS_FILE")
        saved_tls=$(sed -n 's/^SYSLOG_TLS_PORT=//p' "$PORTS_FILE")
        saved_mtls=$(sed -n 's/^SYSLOG_MTLS_PORT=//p' "$PORTS_FILE")
        saved_relp=$(sed -n 's/^SYSLOG_RELP_PORT=//p' "$PORTS_FILE")
        saved_udp=$(sed -n 's/^SYSLOG_UDP_PORT=//p' "$PORTS_FILE")
    fi
    TCP_PORT=${SYSLOG_TCP_PORT:-${saved_tcp:-16514}}
    TLS_PORT=${SYSLOG_TLS_PORT:-${saved_tls:-16515}}
    RELP_PORT=${SYSLOG_RELP_PORT:-${saved_relp:-16516}}
    UDP_PORT=${SYSLOG_UDP_PORT:-${saved_udp:-16517}}
    MTLS_PORT=${SYSLOG_MTLS_PORT:-${saved_mtls:-16518}}
    # GnuTLS priority string for both TLS listeners. rsyslog's own default
    # for authmode "anon" negotiates TLS 1.2 only; "NORMAL" allows 1.3 and 1.2.
    # E.g. SYSLOG_TLS_PRIORITY="NORMAL:-VERS-TLS1.3" forces TLS 1.2.
    TLS_PRIORITY=${SYSLOG_TLS_PRIORITY:-NORMAL}
    [[ $TLS_PRIORITY != *'"'* ]] || die "invalid SYSLOG_TLS_PRIORITY"
    local p
    for p in "$TCP_PORT" "$TLS_PORT" "$RELP_PORT" "$UDP_PORT" "$MTLS_PORT"; do
        [[ $p =~ ^[0-9]+$ ]] && (( p > 0 && p < 65536 )) || die "invalid port '$p'"
    done
}

save_ports() {
    cat >"$PORTS_FILE.tmp" <<EOF
SYSLOG_TCP_PORT=$TCP_PORT
SYSLOG_TLS_PORT=$TLS_PORT
SYSLOG_MTLS_PORT=$MTLS_PORT
SYSLOG_RELP_PORT=$RELP_PORT
SYSLOG_UDP_PORT=$UDP_PORT
EOF
    mv -f "$PORTS_FILE.tmp" "$PORTS_FILE"
}

# ---------------------------------------------------------------- TLS material
gen_certs() {
    if [[ -s $CA && -s $CERT && -s $KEY && -s $CLIENT_CERT && -s $CLIENT_KEY ]]; then
        return 0
    fi
    command -v openssl >/dev/null || die "openssl not found (apt-get install -y openssl)"
    local tmp
    tmp=$(mktemp -d "$DIR/tls.tmp.XXXXXX")
    # Minimal private openssl config: independent of /etc/ssl/openssl.cnf.
    cat >"$tmp/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt             = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
[ server_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ client_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = clientAuth
subjectAltName         = DNS:auditfwd-test-client
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
    local q=(-config "$tmp/openssl.cnf")
    (
        cd "$tmp"
        openssl req "${q[@]}" -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -subj "/CN=auditfwd test CA" -extensions ca_ext \
            -keyout ca-key.pem -out ca.pem
        openssl req "${q[@]}" -new -newkey rsa:2048 -nodes -sha256 \
            -subj "/CN=localhost" -keyout server-key.pem -out server.csr
        openssl x509 -req -sha256 -days 3650 -in server.csr \
            -CA ca.pem -CAkey ca-key.pem -set_serial "0x$(openssl rand -hex 12)" \
            -extfile openssl.cnf -extensions server_ext -out server.pem
        openssl req "${q[@]}" -new -newkey rsa:2048 -nodes -sha256 \
            -subj "/CN=auditfwd-test-client" -keyout client-key.pem -out client.csr
        openssl x509 -req -sha256 -days 3650 -in client.csr \
            -CA ca.pem -CAkey ca-key.pem -set_serial "0x$(openssl rand -hex 12)" \
            -extfile openssl.cnf -extensions client_ext -out client.pem
        openssl verify -CAfile ca.pem server.pem client.pem >/dev/null
        rm -f server.csr client.csr
        chmod 600 ./*-key.pem
    ) >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log" >&2; die "certificate generation failed"; }
    chmod 755 "$tmp"
    rm -rf "$TLS_DIR"
    mv "$tmp" "$TLS_DIR"
}

# ---------------------------------------------------------------- config
write_conf() {
    mkdir -p "$OUT_DIR" "$WORK_DIR"
    local ruleset_block="" l
    for l in tcp tls mtls relp udp; do
        ruleset_block+="
ruleset(name=\"in_$l\") {
    set \$.input = \"$l\";
    action(type=\"omfile\" file=\"$OUT_DIR/$l.jsonl\" template=\"auditfwd_jsonl\"
           asyncWriting=\"off\" flushOnTXEnd=\"on\" flushInterval=\"0\")
}
"
    done
    cat >"$CONF.tmp" <<EOF
# Generated by tests/support/syslog/rsyslog.sh -- do not edit, regenerated on start.
global(
    workDirectory="$WORK_DIR"
    maxMessageSize="64k"
    parser.escapeControlCharactersOnReceive="off"
    net.enableDNS="off"
    # Keep rsyslogd's own messages in this instance (default "off" would
    # send them to the system log socket /dev/log).
    processInternalMessages="on"
    defaultNetstreamDriverCAFile="$CA"
    defaultNetstreamDriverCertFile="$CERT"
    defaultNetstreamDriverKeyFile="$KEY"
)

# Only the network inputs (no imuxsock / imklog: never touch /dev/log or the kernel log).
# Module-level default stream driver stays plain TCP (ptcp); TLS listeners
# select gtls per input (supported since rsyslog 8.2106/8.2108).
module(load="imtcp" maxSessions="1000")
module(load="imrelp")
module(load="imudp")

template(name="auditfwd_jsonl" type="list" option.jsonf="on") {
    property(outname="pri"              name="pri"              format="jsonf" datatype="number")
    property(outname="facility"         name="syslogfacility"   format="jsonf" datatype="number")
    property(outname="severity"         name="syslogseverity"   format="jsonf" datatype="number")
    property(outname="protocol_version" name="protocol-version" format="jsonf")
    property(outname="timestamp"        name="timereported"     format="jsonf" dateFormat="rfc3339")
    property(outname="hostname"         name="hostname"         format="jsonf")
    property(outname="app_name"         name="app-name"         format="jsonf")
    property(outname="procid"           name="procid"           format="jsonf")
    property(outname="msgid"            name="msgid"            format="jsonf")
    property(outname="structured_data"  name="structured-data"  format="jsonf")
    property(outname="msg"              name="msg"              format="jsonf")
    property(outname="rawmsg"           name="rawmsg"           format="jsonf")
    property(outname="input"            name="\$.input"          format="jsonf")
}
$ruleset_block
input(type="imtcp" name="tcp" address="127.0.0.1" port="$TCP_PORT" ruleset="in_tcp")
input(type="imtcp" name="tls" address="127.0.0.1" port="$TLS_PORT" ruleset="in_tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"
      gnutlsPriorityString="$TLS_PRIORITY"
      streamDriver.CAFile="$CA" streamDriver.CertFile="$CERT" streamDriver.KeyFile="$KEY")
input(type="imtcp" name="mtls" address="127.0.0.1" port="$MTLS_PORT" ruleset="in_mtls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid"
      gnutlsPriorityString="$TLS_PRIORITY"
      streamDriver.CAFile="$CA" streamDriver.CertFile="$CERT" streamDriver.KeyFile="$KEY")
input(type="imrelp" name="relp" address="127.0.0.1" port="$RELP_PORT" ruleset="in_relp")
input(type="imudp" name="udp" address="127.0.0.1" port="$UDP_PORT" ruleset="in_udp")

# Default ruleset: only rsyslogd's internal messages end up here (all inputs
# are bound to their own rulesets).
action(type="omfile" file="$INTERNAL_LOG")
EOF
    mv -f "$CONF.tmp" "$CONF"
}

# ---------------------------------------------------------------- process handling
# Prints the pid of the rsyslogd running with DIR's config, or fails.
running_pid() {
    [[ -f $PIDFILE ]] || return 1
    local pid
    pid=$(tr -dc '0-9' <"$PIDFILE")
    [[ -n $pid ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    # Make sure the pid was not recycled by an unrelated process.
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF" || return 1
    echo "$pid"
}

# Socket inodes of listeners on 127.0.0.1:PORT in /proc/net/{tcp,udp}.
listen_inodes() { # proto port
    local proto=$1 port hex
    port=$2
    hex=$(printf '0100007F:%04X' "$port")
    # tcp: state 0A = LISTEN; udp: state 07 = unconnected socket.
    local state=0A
    [[ $proto == udp ]] && state=07
    awk -v a="$hex" -v s="$state" '$2 == a && $4 == s { print $10 }' "/proc/net/$proto" 2>/dev/null
}

# True when process PID owns a listening socket for proto/port.
pid_listens() { # pid proto port
    local pid=$1 ino
    for ino in $(listen_inodes "$2" "$3"); do
        if ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF "socket:[$ino]"; then
            return 0
        fi
    done
    return 1
}

wait_ready() { # pid
    local pid=$1 deadline=$((SECONDS + START_TIMEOUT)) missing
    while :; do
        missing=""
        kill -0 "$pid" 2>/dev/null || { show_log; die "rsyslogd (pid $pid) exited during start-up"; }
        pid_listens "$pid" tcp "$TCP_PORT"  || missing+=" tcp:$TCP_PORT"
        pid_listens "$pid" tcp "$TLS_PORT"  || missing+=" tls:$TLS_PORT"
        pid_listens "$pid" tcp "$MTLS_PORT" || missing+=" mtls:$MTLS_PORT"
        pid_listens "$pid" tcp "$RELP_PORT" || missing+=" relp:$RELP_PORT"
        pid_listens "$pid" udp "$UDP_PORT"  || missing+=" udp:$UDP_PORT"
        [[ -z $missing ]] && break
        if (( SECONDS >= deadline )); then
            show_log
            kill -KILL "$pid" 2>/dev/null || true   # leave nothing half-working behind
            rm -f "$PIDFILE"
            die "timed out after ${START_TIMEOUT}s waiting for listeners:$missing (port in use?)"
        fi
        sleep 0.1
    done
    # The UDP socket is bound, but give the input threads a moment to be
    # actually receiving (there is no handshake to wait for on UDP).
    sleep 0.3
}

show_log() {
    local f
    for f in "$STDERR_LOG" "$INTERNAL_LOG"; do
        if [[ -s $f ]]; then
            echo "--- last lines of $f:" >&2
            tail -n 30 "$f" >&2 || true
        fi
    done
}

do_start() {
    command -v "$RSYSLOGD" >/dev/null || die "rsyslogd not found (apt-get install -y rsyslog rsyslog-gnutls rsyslog-relp)"
    resolve_ports
    local pid
    if pid=$(running_pid); then
        wait_ready "$pid"
        echo READY
        return 0
    fi
    rm -f "$PIDFILE"
    gen_certs
    write_conf
    local check
    if ! check=$(cd "$DIR" && "$RSYSLOGD" -N1 -f "$CONF" 2>&1); then
        echo "$check" >&2
        die "rsyslogd -N1 rejected $CONF"
    fi
    save_ports
    # rsyslogd forks into the background itself and writes the pid file once
    # the child runs. NOTIFY_SOCKET is dropped so it never talks to systemd.
    # Its stdout/stderr go to a file: the daemon keeps the inherited stderr
    # open for a while after forking, which would block a caller that reads
    # our output through a pipe until EOF (e.g. Rust's Command::output()).
    (cd "$DIR" && env -u NOTIFY_SOCKET "$RSYSLOGD" -f "$CONF" -i "$PIDFILE" \
        </dev/null >>"$STDERR_LOG" 2>&1) \
        || { show_log; die "rsyslogd failed to start"; }
    local deadline=$((SECONDS + START_TIMEOUT))
    until pid=$(running_pid); do
        if (( SECONDS >= deadline )); then
            show_log
            die "rsyslogd did not write $PIDFILE within ${START_TIMEOUT}s"
        fi
        sleep 0.1
    done
    wait_ready "$pid"
    echo READY
}

wait_gone() { # pid timeout
    local pid=$1 deadline=$((SECONDS + $2))
    while [[ -e /proc/$pid ]]; do
        # a zombie counts as gone
        if [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]]; then return 0; fi
        (( SECONDS >= deadline )) && return 1
        sleep 0.05
    done
}

do_stop() {
    local pid
    if pid=$(running_pid); then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
            echo "rsyslog.sh: rsyslogd $pid ignored SIGTERM for ${STOP_TIMEOUT}s, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || die "rsyslogd $pid does not exit"
        fi
    fi
    rm -f "$PIDFILE"
}

do_kill() {
    local pid
    if pid=$(running_pid); then
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || die "rsyslogd $pid does not exit after SIGKILL"
    fi
    rm -f "$PIDFILE"
}

do_paths() {
    resolve_ports
    printf 'CA=%q\n' "$CA"
    printf 'CERT=%q\n' "$CERT"
    printf 'KEY=%q\n' "$KEY"
    printf 'CLIENT_CERT=%q\n' "$CLIENT_CERT"
    printf 'CLIENT_KEY=%q\n' "$CLIENT_KEY"
    printf 'OUT_DIR=%q\n' "$OUT_DIR"
    printf 'SYSLOG_TCP_PORT=%s\n' "$TCP_PORT"
    printf 'SYSLOG_TLS_PORT=%s\n' "$TLS_PORT"
    printf 'SYSLOG_MTLS_PORT=%s\n' "$MTLS_PORT"
    printf 'SYSLOG_RELP_PORT=%s\n' "$RELP_PORT"
    printf 'SYSLOG_UDP_PORT=%s\n' "$UDP_PORT"
}

init_paths
case $CMD in
    start)   do_start ;;
    stop)    do_stop ;;
    restart) do_stop; do_start ;;
    kill)    do_kill ;;
    paths)   do_paths ;;
    status)  if pid=$(running_pid); then echo "running $pid"; else echo "stopped"; exit 1; fi ;;
    *)       usage ;;
esac
