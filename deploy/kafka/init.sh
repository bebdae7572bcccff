#!/usr/bin/env bash
# The kafka-init job (docker-compose.yml; deploy/k8s/kafka-init.yaml): makes every SCRAM user
# of the ACL file and adds its allow rules, logged in as the admin user. Run it again after
# changing deploy/kafka/acls.txt (`regia kafka-acls`) or a password: adding a rule or a
# credential that exists already changes nothing.
#
#   KAFKA_BOOTSTRAP            the brokers, e.g. kafka:9092
#   KAFKA_ACL_FILE             default /etc/regia/kafka/acls.txt
#   KAFKA_CA_FILE              the CA of the brokers' certificates (default /etc/kafka/secrets/ca.crt)
#   KAFKA_PASSWORD_REGIA_ADMIN the admin's password
#   KAFKA_PASSWORD_<USER>      each user's password, <USER> upper-cased with - and . as _
#                              (KAFKA_PASSWORD_REGIA_FUNDING, KAFKA_PASSWORD_INSTITUTION_REGIONE_LIGURIA);
#                              a user without one keeps the password it has (or gets none
#                              yet: it cannot log in until one is set)
#
# Rules the file no longer has are NOT removed: `kafka-acls.sh --remove` them (docs/operations.md).
set -euo pipefail

: "${KAFKA_BOOTSTRAP:?KAFKA_BOOTSTRAP is not set}"
: "${KAFKA_PASSWORD_REGIA_ADMIN:?KAFKA_PASSWORD_REGIA_ADMIN is not set}"
acl_file=${KAFKA_ACL_FILE:-/etc/regia/kafka/acls.txt}
ca_file=${KAFKA_CA_FILE:-/etc/kafka/secrets/ca.crt}
bin=/opt/kafka/bin
umask 077

config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat > "$config" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${KAFKA_ADMIN_USER:-regia-admin}" password="$KAFKA_PASSWORD_REGIA_ADMIN";
ssl.truststore.type=PEM
ssl.truststore.location=$ca_file
PROPERTIES

rules=$(grep -v '^[[:space:]]*#' "$acl_file" | grep -v '^[[:space:]]*$')

# Users: every principal of the file, its password from its variable.
for user in $(awk '{sub("^User:", "", $1); print $1}' <<<"$rules" | sort -u); do
  variable="KAFKA_PASSWORD_$(tr 'a-z.-' 'A-Z__' <<<"$user")"
  password=${!variable:-}
  if [ -z "$password" ]; then
    echo "user $user: no $variable, its password is left as it is"
    continue
  fi
  "$bin/kafka-configs.sh" --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$config" --alter \
    --entity-type users --entity-name "$user" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]" >/dev/null
  echo "user $user: SCRAM-SHA-512 credential set"
done

# Allow rules, one call per line of the file.
while read -r principal resource pattern name operations; do
  args=()
  for operation in ${operations//,/ }; do args+=(--operation "$operation"); done
  "$bin/kafka-acls.sh" --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$config" --add \
    --allow-principal "$principal" "${args[@]}" "--$resource" "$name" --resource-pattern-type "$pattern" >/dev/null
  echo "allowed $principal $operations on $resource $name ($pattern)"
done <<<"$rules"
echo "kafka-init: done"
