#!/usr/bin/env bash
# The TLS certificates of a deployment's Kafka listener, made with openssl: a CA of the
# deployment's own and the broker's certificate signed by it. Run once per deployment,
# on the machine that runs compose (or wherever you make Kubernetes Secrets from):
#
#   deploy/kafka/make-certs.sh [OUT_DIR] [BROKER_NAME ...]
#
# OUT_DIR defaults to deploy/kafka/secrets (git ignores it: nothing made here is ever
# committed). The broker's names default to `kafka` (its compose service name, what
# clients connect to) and `localhost` (its own health check); a cluster's brokers list
# theirs, e.g. `kafka-0.kafka.svc kafka-1.kafka.svc ...`: clients check the name they
# connect to against the certificate (REGIA_KAFKA_SSL_CAFILE verifies the CA, and the
# host name is always checked).
#
# Makes:
#   ca.crt     the CA certificate: every client's REGIA_KAFKA_SSL_CAFILE, the brokers' truststore
#   ca.key     the CA's private key: move it OFF this machine (a password manager, an offline
#              disk); it is needed again only to sign the next broker certificate
#   kafka.pem  the broker's private key followed by its certificate (Kafka's PEM keystore);
#              readable by its owner only: give it to the broker's user (apache/kafka runs as
#              uid 1000: `sudo chown 1000 OUT_DIR/kafka.pem`), never to a client
#
# The broker certificate lasts 397 days, the CA 5 years: rotate as docs/security.md says
# ("Event gateway", certificate rotation). An existing CA in OUT_DIR is reused (with its
# key), so re-running this only renews the broker's certificate.
set -euo pipefail

out=${1:-"$(cd "$(dirname "$0")" && pwd)/secrets"}
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(kafka localhost)

umask 077
mkdir -p "$out"
cd "$out"

if [ ! -f ca.key ] || [ ! -f ca.crt ]; then
  openssl req -x509 -new -newkey rsa:3072 -nodes -sha256 -days 1826 \
    -keyout ca.key -out ca.crt -subj "/CN=Regia Kafka CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
  echo "made a new CA: $out/ca.crt (its key, $out/ca.key, belongs off this machine once the broker is signed)"
else
  echo "reusing the CA in $out"
fi

san=""
for name in "${names[@]}"; do san="${san:+$san,}DNS:$name"; done

openssl req -new -newkey rsa:3072 -nodes -sha256 -keyout broker.key -out broker.csr -subj "/CN=${names[0]}"
openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 397 -out broker.crt \
  -extfile <(printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$san")
# PKCS#8, unencrypted: Kafka reads it as a PEM keystore without a password (the file's
# mode is what protects it, as a password stored beside it would not).
openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.p8
cat broker.p8 broker.crt > kafka.pem
rm -f broker.key broker.p8 broker.csr
chmod 600 kafka.pem ca.key
chmod 644 ca.crt broker.crt
openssl verify -CAfile ca.crt broker.crt
echo "broker certificate for ${names[*]}: $out/kafka.pem (key + certificate), valid 397 days"
