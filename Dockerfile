# The helpdesk image: one image for every process of docker-compose.yml (migrate, web,
# worker, beat); the command chooses the process.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=helpdesk.settings \
    HELPDESK_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    STATIC_COMPRESS=1

# curl for the health check, gettext to compile the translations.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Build-time settings only: nothing here is kept (the secret key is read from the
# environment or from the shared var volume at run time).
RUN export SECRET_KEY=build-only HELPDESK_VAR_DIR=/tmp/build-var \
    && if find . -name '*.po' | grep -q .; then python manage.py compilemessages --verbosity 0; fi \
    && python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build-var

RUN useradd --create-home --uid 10001 helpdesk \
    && mkdir -p /app/var \
    && chown -R helpdesk:helpdesk /app/var
USER helpdesk

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "helpdesk.asgi:application"]
