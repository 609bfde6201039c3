# The engine's image: the engine only. Asterisk runs beside it (its own host or container)
# and reaches the engine's FastAGI port; the engine reaches Asterisk's AMI.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng sox \
    && rm -rf /var/lib/apt/lists/*

# The engine finds config/ and prompts/ beside its package, so it is installed in place.
WORKDIR /opt/ivr-engine
COPY pyproject.toml README.md ./
COPY ivr_engine ./ivr_engine
COPY acd ./acd
COPY ground ./ground
RUN pip install --no-cache-dir -e .

COPY config ./config
COPY prompts/catalogue.yaml ./prompts/catalogue.yaml
COPY dialplans ./dialplans

# Listen on all interfaces inside the container; secrets come from the environment
# (IVR_ENGINE_AMI__SECRET), never from the image.
ENV IVR_ENGINE_SETTINGS=/opt/ivr-engine/config/engine.yaml \
    IVR_ENGINE_AGI__HOST=0.0.0.0 \
    IVR_ENGINE_HTTP__HOST=0.0.0.0 \
    IVR_ENGINE_DATABASE__URL=sqlite+aiosqlite:////var/lib/ivr-engine/journal.db

RUN useradd --system --home /var/lib/ivr-engine --create-home ivr
USER ivr
EXPOSE 4573 8080
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)" || exit 1
CMD ["ivr-engine", "run"]
