#!/usr/bin/env bash
# PostgreSQL for the tests: on 127.0.0.1:5432 (database `test`). Where CI=true it is required: started if
# down, and a clear failure if it still does not answer. Elsewhere its tests are skipped when it is down.
set -u
answers() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || \
  python3 -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; }
if answers; then echo "PostgreSQL answers on 127.0.0.1:5432"; exit 0; fi
if [ "${CI:-}" != "true" ]; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432: its tests will be skipped (CI=true requires it)"; exit 0
fi
echo "PostgreSQL is down; starting it"
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
for _ in $(seq 1 30); do answers && { echo "PostgreSQL started"; exit 0; }; sleep 1; done
echo "error: CI=true and PostgreSQL still does not answer on 127.0.0.1:5432" >&2
exit 1
