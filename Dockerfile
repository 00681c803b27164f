# The mayday worker and HTTP app image (see docker-compose.yml).
FROM python:3.11-slim

ENV UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH="/app/.venv/bin:${PATH}" \
    MAYDAY_DATA_DIR=/data

RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY mayday ./mayday
COPY playbooks ./playbooks
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
RUN uv sync --locked --no-dev && mkdir -p /data

USER nobody
ENTRYPOINT ["mayday"]
CMD ["worker"]
