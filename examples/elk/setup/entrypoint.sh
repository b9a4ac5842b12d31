#!/usr/bin/env bash
# The setup one-shot: gives Logstash and Kibana the users they log in to Elasticsearch as, with the passwords of
# .env, through Elasticsearch's security API as the superuser 'elastic'. Safe to run again: it creates or updates.
#   role logstash_writer      from /roles/logstash_writer.json
#   user logstash_internal    (role logstash_writer), password LOGSTASH_INTERNAL_PASSWORD
#   user kibana_system        (built-in), password KIBANA_SYSTEM_PASSWORD
set -eu -o pipefail

ES=${ELASTICSEARCH_URL:-http://elasticsearch:9200}

log() { echo "[setup] $*"; }

# call METHOD PATH [JSON]: prints the HTTP status (000 when there was no answer); the body goes to /tmp/body.
call() {
	local args=(-sS -o /tmp/body -w '%{http_code}' -m 30 -u "elastic:${ELASTIC_PASSWORD}" -X "$1" "${ES}$2")
	if (($# > 2)); then args+=(-H 'Content-Type: application/json' -d "$3"); fi
	curl "${args[@]}" || true
}

expect_ok() { # WHAT STATUS
	if [[ $2 != 200 ]]; then
		log "$1: HTTP $2: $(cat /tmp/body 2>/dev/null)"
		exit 1
	fi
	log "$1: done"
}

[[ -n ${ELASTIC_PASSWORD:-} ]] || { log 'ELASTIC_PASSWORD is empty (.env)'; exit 1; }

log "waiting for Elasticsearch at ${ES}"
for ((i = 0; i < 60; i++)); do
	status=$(call GET /_security/_authenticate)
	[[ $status == 200 ]] && break
	sleep 2
done
expect_ok 'Elasticsearch answers as elastic' "$status"

expect_ok 'role logstash_writer' "$(call PUT /_security/role/logstash_writer "$(</roles/logstash_writer.json)")"

if [[ -n ${LOGSTASH_INTERNAL_PASSWORD:-} ]]; then
	expect_ok 'user logstash_internal' \
		"$(call POST /_security/user/logstash_internal "{\"password\":\"${LOGSTASH_INTERNAL_PASSWORD}\",\"roles\":[\"logstash_writer\"]}")"
else
	log 'user logstash_internal: no password in .env, skipped'
fi

if [[ -n ${KIBANA_SYSTEM_PASSWORD:-} ]]; then
	expect_ok 'password of kibana_system' \
		"$(call POST /_security/user/kibana_system/_password "{\"password\":\"${KIBANA_SYSTEM_PASSWORD}\"}")"
else
	log 'user kibana_system: no password in .env, skipped'
fi
