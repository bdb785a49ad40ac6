# Gatekeeper container image. Untested here (no Docker engine on the build machines): keep it simple.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHON=python \
    GATEKEEPER_BIND=0.0.0.0:7843 \
    GATEKEEPER_DECISION_BIND=0.0.0.0:7844

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
# 7843: the admin (staff); 7844: decisions (the proxy only). One role per container:
#   docker run IMAGE admin     |     docker run IMAGE decisions     |     docker run IMAGE webhooks
EXPOSE 7843 7844

# Set at run time: SECRET_KEY, GATEKEEPER_SECRET_KEYS, DATABASE_URL, REDIS_URL, ALLOWED_HOSTS
# (and GATEKEEPER_TRUSTED_PROXIES for the decisions role: the proxy's address).
ENTRYPOINT ["deploy/serve.sh"]
CMD ["admin"]
