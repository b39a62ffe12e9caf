#!/usr/bin/env bash
# Builds Dockerfile.server and Dockerfile.agent and smoke-tests them together: the server
# container turns healthy, the agent container (host /proc and /sys) gets listed with cpu.usage
# points, and both stop on `docker stop` with exit code 0. Used by the release workflow; needs
# Docker, curl and free ports 18080 and 19090.
set -euo pipefail
cd "$(dirname "$0")/.."

server=oxmon-smoke-server
agent=oxmon-smoke-agent
cleanup() { docker rm -f "$server" "$agent" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() {
  echo "docker smoke: FAILED: $*" >&2
  docker logs "$server" >&2 || true
  docker logs "$agent" >&2 || true
  exit 1
}

docker build -f Dockerfile.server -t oxmon-server:smoke .
docker build -f Dockerfile.agent -t oxmon-agent:smoke .

docker run -d --name "$server" -p 18080:8080 -p 19090:9090 oxmon-server:smoke >/dev/null
for _ in $(seq 1 60); do
  status=$(docker inspect --format '{{.State.Health.Status}}' "$server")
  [ "$status" = healthy ] && break
  sleep 2
done
[ "$status" = healthy ] || fail "the server container is $status, not healthy"
echo "docker smoke: server healthy"

docker run -d --name "$agent" --network host --pid host \
  -v /proc:/host/proc:ro -v /sys:/host/sys:ro oxmon-agent:smoke \
  --config /etc/oxmon/agent.toml --server http://127.0.0.1:19090 --interval 1 \
  --agent-id docker-smoke >/dev/null
api=http://127.0.0.1:18080/api/v1
for _ in $(seq 1 60); do
  if curl -fsS "$api/metrics?agent=docker-smoke&metric=cpu.usage" | grep -q '"points":\[{'; then
    listed=yes
    break
  fi
  sleep 1
done
[ "${listed:-no}" = yes ] || fail "no cpu.usage points from the agent container"
echo "docker smoke: agent reports"

docker stop -t 30 "$agent" "$server" >/dev/null
for container in "$agent" "$server"; do
  code=$(docker inspect --format '{{.State.ExitCode}}' "$container")
  [ "$code" = 0 ] || fail "$container exited with $code"
done
docker logs "$server" 2>&1 | grep -q "oxmon server stopped" || fail "no clean server shutdown"
docker logs "$agent" 2>&1 | grep -q "agent stopped" || fail "no clean agent shutdown"
echo "docker smoke: passed"
