# The gateway (and the reference subgraphs, from the same image): `docker build -t rugzak .`
# Slim, runs as a non-root user, checks its own /health. compose.yaml runs the whole stack.
# The commands are those tests/packaging/test_container_recipe.py runs in a venv.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt schema.graphql ./
COPY examples examples
COPY gateway gateway
COPY auth auth
COPY subgraphs subgraphs
COPY resolvers resolvers
RUN python -m venv /opt/rugzak \
 && /opt/rugzak/bin/pip install --no-cache-dir --disable-pip-version-check -c constraints.txt '.[tracing]'

FROM python:3.11-slim-bookworm
RUN useradd --system --user-group --uid 10001 --home-dir /var/lib/rugzak --create-home rugzak
COPY --from=build /opt/rugzak /opt/rugzak
COPY schema.graphql /etc/rugzak/schema.graphql
COPY rugzak.example.toml /etc/rugzak/rugzak.toml
ENV PATH=/opt/rugzak/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    RUGZAK_DATA_DIR=/var/lib/rugzak
USER rugzak
# the example's relative paths (supergraph = "schema.graphql") are read from here
WORKDIR /etc/rugzak
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:4000/health', timeout=2).status != 200)"]
ENTRYPOINT ["rugzak"]
CMD ["serve", "--config", "/etc/rugzak/rugzak.toml"]
