#!/usr/bin/env bash
# Start the local RabbitMQ and PostgreSQL if they are not answering; wait until they do.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5672; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached
fi
if ! port_open 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
for _ in $(seq 1 60); do
  if port_open 5672 && port_open 5432 && rabbitmqctl -q await_startup >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "RabbitMQ or PostgreSQL did not come up" >&2
exit 1
