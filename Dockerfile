# maildesk in a container: a virtual environment on a Python base, run as the
# unprivileged user maildesk. Build: `podman build -t maildesk .` (or docker).
# Config: mount yours at /etc/maildesk/maildesk.toml; state (the SQLite file, token
# files): the volume /var/lib/maildesk; secrets: container secrets, found by their
# variable's name in /run/secrets (MAILDESK_SECRET, MAILDESK_IMAP_PASSWORD, ...).
# See compose.yaml, and README "Run it as a service".

# Any image with Python 3.11 or newer as `python3` (with venv) and useradd.
ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
# More pip options, e.g. "--no-index --find-links /src/wheels" to build offline from
# wheels put in the build context (contrib/container-check.sh does).
ARG PIP_OPTIONS=""
COPY . /src
RUN python3 -m venv /opt/maildesk \
 && /opt/maildesk/bin/pip install --no-cache-dir --disable-pip-version-check \
      ${PIP_OPTIONS} "/src[postgres]" \
 && /opt/maildesk/bin/python3 -m pip uninstall -q -y pip setuptools

FROM ${BASE_IMAGE}
COPY --from=build /opt/maildesk /opt/maildesk
# A fixed uid, so files given to the container (secrets) can be made its own: 10001.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/maildesk \
      --create-home --shell /usr/sbin/nologin maildesk \
 && mkdir -p /etc/maildesk
ENV PATH=/opt/maildesk/bin:$PATH \
    MAILDESK_CONFIG=/etc/maildesk/maildesk.toml \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER maildesk
WORKDIR /var/lib/maildesk
VOLUME /var/lib/maildesk
# The web listener ([web] listen): the survey page, /healthz, /readyz, /metrics.
EXPOSE 8025
# The daemon stops cleanly on SIGTERM; give it time (docker stop -t 60, compose's
# stop_grace_period) to finish the mail in hand.
STOPSIGNAL SIGTERM
# Healthy while the daemon answers /healthz on its listener; set MAILDESK_HEALTH_URL
# when [web] listen is not port 8025.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('MAILDESK_HEALTH_URL', 'http://127.0.0.1:8025/healthz'), timeout=4)"]
ENTRYPOINT ["maildesk"]
CMD ["run"]
