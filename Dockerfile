# Gatekeeper container image. Untested here (no Docker engine on the build machines): keep it simple.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GATEKEEPER_BIND=0.0.0.0:7843

WORKDIR /app
RUN groupadd --system gatekeeper && useradd --system --gid gatekeeper --home /app gatekeeper

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings but no real secret: give it a throwaway one for this step only.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --no-input \
    && mkdir -p /app/var && chown -R gatekeeper:gatekeeper /app/var

USER gatekeeper
EXPOSE 7843

# Set at run time: SECRET_KEY, GATEKEEPER_SECRET_KEYS, DATABASE_URL, REDIS_URL, ALLOWED_HOSTS.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:7843/admin/login/', timeout=2); sys.exit(0)"

CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "gatekeeper_project.wsgi"]
