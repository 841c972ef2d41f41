#!/usr/bin/env bash
# Certificates a TLS client must refuse, for the negative TLS tests
# (tests/it/tls_refusals.rs). Usage: bad_certs.sh DIR
#
# Writes into DIR:
#   ca.pem              the CA the client trusts
#   server-key.pem      one key for every server certificate below
#   good.pem            signed by ca.pem for localhost / 127.0.0.1 (the control)
#   other-ca.pem        a CA that signed nothing here: trusting it = "wrong CA"
#   expired.pem         signed by ca.pem for localhost / 127.0.0.1, expired in 2020
#   wrong-name.pem      signed by ca.pem for wrong-name.invalid / 10.9.9.9 only
# Needs openssl (apt-get install openssl). Independent of /etc/ssl/openssl.cnf.
set -euo pipefail
DIR=${1:?usage: bad_certs.sh DIR}
command -v openssl >/dev/null || { echo "openssl not found (apt-get install -y openssl)" >&2; exit 1; }
mkdir -p "$DIR"
cd "$DIR"
cat >openssl.cnf <<'CNF'
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
[ wrong_name_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:wrong-name.invalid, IP:10.9.9.9
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
# `openssl ca` is the one way (OpenSSL 3.0) to set validity dates in the past.
[ ca ]
default_ca = expired_ca
[ expired_ca ]
database        = index.txt
new_certs_dir   = .
serial          = serial
default_md      = sha256
policy          = any
copy_extensions = none
unique_subject  = no
[ any ]
CN = supplied
CNF
q=(-config openssl.cnf)
{
    openssl req "${q[@]}" -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/CN=auditfwd test CA" -extensions ca_ext -keyout ca-key.pem -out ca.pem
    openssl req "${q[@]}" -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/CN=some other CA" -extensions ca_ext -keyout other-ca-key.pem -out other-ca.pem
    openssl req "${q[@]}" -new -newkey rsa:2048 -nodes -sha256 \
        -subj "/CN=localhost" -keyout server-key.pem -out server.csr
    openssl x509 -req -sha256 -days 3650 -in server.csr -CA ca.pem -CAkey ca-key.pem \
        -set_serial "0x$(openssl rand -hex 12)" -extfile openssl.cnf -extensions server_ext -out good.pem
    openssl x509 -req -sha256 -days 3650 -in server.csr -CA ca.pem -CAkey ca-key.pem \
        -set_serial "0x$(openssl rand -hex 12)" -extfile openssl.cnf -extensions wrong_name_ext -out wrong-name.pem
    : >index.txt
    openssl rand -hex 12 >serial
    openssl ca "${q[@]}" -batch -notext -cert ca.pem -keyfile ca-key.pem -in server.csr \
        -startdate 20200101000000Z -enddate 20200102000000Z \
        -extfile openssl.cnf -extensions server_ext -out expired.pem
    openssl verify -CAfile ca.pem good.pem wrong-name.pem
    ! openssl verify -CAfile ca.pem expired.pem
} >openssl.log 2>&1 || { cat openssl.log >&2; echo "certificate generation failed" >&2; exit 1; }
echo "certificates in $DIR"
