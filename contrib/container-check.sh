#!/usr/bin/env bash
# Build maildesk's container image and run it against mail servers on loopback.
#
# What it does, in order (each step is skipped when its result is already there,
# so running it again is cheap; MAILDESK_CHECK_FRESH=1 redoes everything):
#  1. a base image made from Debian's own packages, no registry needed: debootstrap
#     (minbase + python3, python3-venv) from the mirror this machine's apt uses,
#     imported into podman as localhost/maildesk-base;
#  2. the wheels of maildesk and its dependencies, built here by pip (so the image
#     builds offline), and the Dockerfile on top of that base (BASE_IMAGE build arg);
#  3. an IMAP server (pymap) and an SMTP server (aiosmtpd) on loopback, started the
#     way maildesk demo starts them, with one customer mail waiting in the inbox;
#  4. in the container, on the host's network, as its user maildesk, with the secrets
#     as podman secrets (/run/secrets/<NAME>): `maildesk init`, `maildesk doctor`,
#     `maildesk poll --once`; then checks that the acknowledgement reached SMTP.
# The image is built with chroot isolation (no OCI runtime, so it works inside a
# container too). Where `podman run` cannot start containers (nested, rlimits or
# cgroups refused) step 4 runs the image with `buildah run --isolation chroot`
# instead, the secrets then bind-mounted as files in /run/secrets: what the daemon
# sees is the same. It is not part of .ci/run (it needs root, podman, buildah and
# debootstrap). Run as root:  contrib/container-check.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${MAILDESK_CHECK_DIR:-/var/tmp/maildesk-check}
base=localhost/maildesk-base
image=localhost/maildesk-check

say() { printf '\n== %s\n' "$*"; }
need() { command -v "$1" >/dev/null || { echo "missing: $1 ($2)" >&2; exit 2; }; }
need podman "apt-get install podman"
need buildah "apt-get install buildah"
need debootstrap "apt-get install debootstrap"
[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap, podman import)" >&2; exit 2; }
mkdir -p "$work"
if [ "${MAILDESK_CHECK_FRESH:-0}" = 1 ]; then
  podman rmi -f "$image" "$base" >/dev/null 2>&1 || true
  rm -rf "$work/rootfs" "$work/context"
fi

mirror() {  # the Debian mirror of this machine's apt sources (deb822 or one-line)
  local found
  found=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' \
    | grep -v security | head -n1 || true)
  [ -n "$found" ] || found=$(grep -hs '^deb ' /etc/apt/sources.list \
    | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$found" ] || { echo "no Debian mirror in /etc/apt/sources.list*" >&2; exit 2; }
  echo "$found"
}

say "1. base image $base (Debian bookworm minbase + python3)"
if podman image exists "$base"; then
  echo "already built"
else
  if [ ! -e "$work/rootfs/.maildesk-complete" ]; then
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      bookworm "$work/rootfs" "$(mirror)"
    rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    touch "$work/rootfs/.maildesk-complete"
  fi
  tar -C "$work/rootfs" --exclude=./.maildesk-complete -c . | podman import - "$base"
fi

say "2. image $image from the Dockerfile, offline from wheels built here"
context="$work/context"
rm -rf "$context/src"
mkdir -p "$context/src" "$context/wheels"
(cd "$repo" && cp -r pyproject.toml README.md Dockerfile .dockerignore maildesk templates \
  "$context/src/")
find "$context/src" -name __pycache__ -prune -exec rm -rf {} +
python3 -m pip wheel -q --disable-pip-version-check -w "$context/wheels" \
  hatchling "$repo[postgres]" >"$work/pip-wheel.log" 2>&1 \
  || { tail -n 20 "$work/pip-wheel.log" >&2; exit 1; }
rm -rf "$context/src/wheels" && cp -r "$context/wheels" "$context/src/wheels"
podman build -q --format docker --network host --isolation chroot \
  --build-arg BASE_IMAGE="$base" \
  --build-arg PIP_OPTIONS="--no-index --find-links /src/wheels" \
  -t "$image" "$context/src" >/dev/null
podman image inspect "$image" --format 'size {{.Size}} bytes, user {{.Config.User}},
  entrypoint {{.Config.Entrypoint}} {{.Config.Cmd}}, healthcheck {{.Config.Healthcheck.Test}}'

say "3. IMAP and SMTP on loopback, one customer mail waiting"
state="$work/run"
rm -rf "$state" && mkdir -p "$state/lib"
chown 10001:10001 "$state/lib"   # the image's user maildesk writes the SQLite file here
PYTHONPATH="$repo" python3 - "$state" <<'PYTHON' &
"""Servers for the check: pymap and an aiosmtpd sink, ports written to ports.env; on
SIGTERM the subjects of the mails the sink got are written to sent.txt."""
import signal
import sys
from pathlib import Path

from aiosmtpd.controller import Controller

from maildesk.demo.mails import customer_mail
from maildesk.demo.servers import Deliveries, SmtpCapture, free_port, start_pymap

state = Path(sys.argv[1])
imap_port, smtp_port = free_port(), free_port()
pymap = start_pymap(imap_port, "support@desk.test", "imap-password")
# SIGTERM waited for below, in every thread from here on (pymap keeps its own default)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
capture = SmtpCapture()
smtpd = Controller(capture, hostname="127.0.0.1", port=smtp_port)
smtpd.start()
deliveries = Deliveries(imap_port, "support@desk.test", "imap-password")
deliveries.append(
    customer_mail("Ann <ann@shop.test>", "Checkout is down", "We cannot pay.", "support@desk.test")
)
deliveries.close()
(state / "ports.env").write_text(f"imap_port={imap_port}\nsmtp_port={smtp_port}\n")
signal.sigwait({signal.SIGTERM})
(state / "sent.txt").write_text("".join(f"{m['To']}: {m['Subject']}\n" for m in capture.mails))
smtpd.stop()
pymap.terminate()
pymap.wait()
PYTHON
servers=$!
trap 'kill "$servers" 2>/dev/null || true' EXIT
for _ in $(seq 300); do [ -e "$state/ports.env" ] && break; sleep 0.1; done
[ -e "$state/ports.env" ] || { echo "the loopback servers did not start" >&2; exit 1; }
# shellcheck disable=SC1091
. "$state/ports.env"
echo "IMAP 127.0.0.1:$imap_port, SMTP 127.0.0.1:$smtp_port"
mkdir "$state/etc"
cat >"$state/etc/maildesk.toml" <<TOML
[desk]
name = "Container Check"
timezone = "UTC"

[database]
url = "sqlite:////var/lib/maildesk/maildesk.db"

[imap]
host = "127.0.0.1"
port = $imap_port
security = "none"
username = "support@desk.test"
password_env = "MAILDESK_IMAP_PASSWORD"
idle = false

[smtp]
host = "127.0.0.1"
port = $smtp_port
security = "none"
from_address = "support@desk.test"
TOML
mkdir -m 0755 "$state/secrets"   # as /run/secrets is: each file the user's own, 0400
python3 -c "import secrets; print(secrets.token_hex(32))" >"$state/secrets/MAILDESK_SECRET"
printf 'imap-password' >"$state/secrets/MAILDESK_IMAP_PASSWORD"
chown 10001:10001 "$state/secrets"/* && chmod 0400 "$state/secrets"/*

say "4. maildesk init, doctor, poll --once in the container"
data=/var/lib/maildesk   # the image's volume
if podman run --rm --network host "$image" --version >"$work/podman-run.log" 2>&1; then
  echo "with podman run, the secrets as podman secrets"
  for name in MAILDESK_SECRET MAILDESK_IMAP_PASSWORD; do
    podman secret rm "$name" >/dev/null 2>&1 || true
    podman secret create "$name" "$state/secrets/$name" >/dev/null
  done
  in_container() {
    podman run --rm --network host --secret MAILDESK_SECRET --secret MAILDESK_IMAP_PASSWORD \
      -v "$state/etc:/etc/maildesk:ro" -v "$state/lib:$data" "$image" "$@"
  }
else
  echo "podman run cannot start a container here: $(tail -n1 "$work/podman-run.log")"
  echo "so: buildah run --isolation chroot, the secrets as files in /run/secrets"
  # buildah 1.28 mounts the image's VOLUME over a bind on it at random (Go's map
  # order), so here the SQLite file lives in a folder beside it.
  data=/srv/maildesk
  buildah rm maildesk-check >/dev/null 2>&1 || true
  buildah from --name maildesk-check "$image" >/dev/null
  in_container() {
    buildah run --isolation chroot --network host --user maildesk \
      -v "$state/lib:$data" -v "$state/etc:/etc/maildesk:ro" \
      -v "$state/secrets:/run/secrets:ro" maildesk-check -- maildesk "$@"
  }
fi
sed -i "s#/var/lib/maildesk/maildesk.db#$data/maildesk.db#" "$state/etc/maildesk.toml"
in_container init
in_container doctor || echo "(doctor exit $?: see its FAIL lines above)"
in_container poll --once
in_container stats --json >"$state/stats.json"
kill "$servers"
wait "$servers" || true
trap - EXIT
buildah rm maildesk-check >/dev/null 2>&1 || true

say "result"
cat "$state/sent.txt"
python3 - "$state" <<'PYTHON'
import json, sys
from pathlib import Path

state = Path(sys.argv[1])
stats = json.loads((state / "stats.json").read_text())
sent = (state / "sent.txt").read_text()
ok = stats["tickets"] == 1 and "ann@shop.test" in sent and "[Ticket#1] Checkout is down" in sent
print(f"tickets {stats['tickets']}, outbox {stats['outbox']}: {'worked' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
PYTHON
