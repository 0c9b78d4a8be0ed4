# syntax=docker/dockerfile:1
# One image for every dispatcher process (api, workers, beat, flower, simulator); the command picks
# the process. Built in two stages so the runtime image has no compiler and no build cache.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dispatcher ./dispatcher
COPY workers ./workers
# A wheel of the package and of its runtime dependencies only: no [dev], no [embedded] (Redis is a
# service of its own in containers).
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels dispatcher \
    && useradd --system --uid 10001 --home-dir /app --create-home dispatcher
WORKDIR /app
# Numeric user, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001
# `celery -A workers` imports the installed `workers` package; nothing is read from /app.
EXPOSE 8080 5555 8900
CMD ["dispatcher", "--help"]
