#!/usr/bin/env bash
# The broker's start in docker-compose.yml, in front of the apache/kafka image's own
# (/etc/kafka/docker/run). KRaft keeps SCRAM users in the cluster's metadata, so the first
# user must be written when the storage is formatted, before the broker can be asked for
# anything: this formats it with the admin user's SCRAM-SHA-512 credential
# (`kafka-storage format --add-scram`), then hands over to the image, whose own format then
# finds the storage formatted. On later starts the volume is formatted already and nothing
# changes (the admin's password is changed with kafka-configs, docs/operations.md).
#
# It also writes the admin's client settings for the health check (/tmp, mode 0600), and
# nothing else: every other user and every ACL is made by the kafka-init job (init.sh).
set -euo pipefail

: "${CLUSTER_ID:?CLUSTER_ID is not set}"
: "${REGIA_KAFKA_ADMIN_PASSWORD:?REGIA_KAFKA_ADMIN_PASSWORD is not set: run ./regia.sh deploy-secrets}"
admin=${REGIA_KAFKA_ADMIN_USER:-regia-admin}
umask 077

# The image's own step that turns the KAFKA_* variables into server.properties.
/etc/kafka/docker/configure
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" \
  --config /opt/kafka/config/server.properties \
  --add-scram "SCRAM-SHA-512=[name=$admin,password=$REGIA_KAFKA_ADMIN_PASSWORD]"

cat > /tmp/admin-client.properties <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$admin" password="$REGIA_KAFKA_ADMIN_PASSWORD";
ssl.truststore.type=PEM
ssl.truststore.location=${KAFKA_SSL_TRUSTSTORE_LOCATION:-/etc/kafka/secrets/ca.crt}
PROPERTIES

exec /etc/kafka/docker/run
