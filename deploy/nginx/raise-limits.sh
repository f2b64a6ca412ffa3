#!/bin/sh
# Gives nginx room for a province's screens (docs/sizing.md, docs/install.md step 5).
#
# Every screen, kiosk and counter keeps a WebSocket open, and through nginx each one is two
# connections: the device's, and nginx's own to the server. Debian's nginx.conf allows 768
# connections per worker process (one worker per core), about 768 devices on a 2-core server;
# a province's server has thousands. This sets worker_connections (default 16384: 8,000 devices
# per worker) and the open-file limit of nginx's workers to twice that (systemd's default for the
# nginx service is 1,024, which would cap them again). Run it again any time: it only sets values.
#
#   sudo sh deploy/nginx/raise-limits.sh [nginx.conf]      # then: sudo nginx -t && sudo systemctl reload nginx
#   QMS_NGINX_CONNECTIONS=32768 sudo sh deploy/nginx/raise-limits.sh
set -eu
conf=${1:-/etc/nginx/nginx.conf}
connections=${QMS_NGINX_CONNECTIONS:-16384}
files=$((connections * 2))
grep -qE '^[[:space:]]*worker_connections[[:space:]]' "$conf" || { echo "no worker_connections in $conf" >&2; exit 1; }
sed -i -E "s/^([[:space:]]*worker_connections)[[:space:]]+[0-9]+;/\1 ${connections};/" "$conf"
if grep -qE '^[[:space:]]*worker_rlimit_nofile[[:space:]]' "$conf"; then
  sed -i -E "s/^([[:space:]]*worker_rlimit_nofile)[[:space:]]+[0-9]+;/\1 ${files};/" "$conf"
else
  # a directive of the main context: before the events block
  sed -i -E "0,/^events[[:space:]]*\{/s//worker_rlimit_nofile ${files};\n&/" "$conf"
fi
grep -E '^[[:space:]]*worker_(connections|rlimit_nofile)[[:space:]]' "$conf"
