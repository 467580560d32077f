#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1: install them (Debian) if missing,
# start them if down. The tests need both over real connections, and the console's browser
# tests need Debian's headless Chromium, its driver (tests/browser.py) and a CJK font.
set -euo pipefail

need_install=()
command -v pg_ctlcluster >/dev/null || need_install+=(postgresql)
command -v redis-server >/dev/null || need_install+=(redis-server)
[ -x /usr/bin/chromedriver ] || need_install+=(chromium chromium-driver)
# A CJK font, so that the browser tests' screenshots show the console's Chinese, not boxes.
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need_install+=(fonts-wqy-zenhei)
if [ ${#need_install[@]} -gt 0 ]; then
  echo "installing ${need_install[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_install[@]}" postgresql-client >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

for _ in $(seq 1 30); do
  if pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL or Redis did not come up" >&2
exit 1
