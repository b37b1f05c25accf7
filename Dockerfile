# syntax=docker/dockerfile:1
# RunWei API — production image. Build: docker build -t runwei-api .

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
COPY requirements.txt .
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="runwei-api" \
      org.opencontainers.image.description="RunWei REST API"
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=2
RUN groupadd --system --gid 10001 runwei \
    && useradd --system --uid 10001 --gid runwei --home-dir /srv --shell /usr/sbin/nologin runwei \
    && mkdir -p /srv/var/media \
    && chown -R 10001:10001 /srv/var
WORKDIR /srv
COPY --from=build /opt/venv /opt/venv
COPY --chown=runwei:runwei app/ ./app/
COPY --chown=runwei:runwei scripts/ ./scripts/
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "app.healthcheck"]
CMD ["python", "-m", "app.serve"]
