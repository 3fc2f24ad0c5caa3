# ArcticRoute image: the UI (default) or any command, `docker run arcticroute:<version> <command> [options]`.
#
#   docker build -t arcticroute:0.1.0 --build-arg GIT_SHA="$(git rev-parse HEAD)" .
#   docker run --rm arcticroute:0.1.0 health.check --json
#
# Classic-builder syntax only (no BuildKit: no RUN --mount, COPY --chmod, heredocs), so
# DOCKER_BUILDKIT=0 builds it too. Python packages come from PyPI during the build, exactly
# the hash-locked runtime set in requirements.txt (uv --require-hashes, the way `just setup`
# installs it); nothing is downloaded at run time.

# The base of both stages: python:3.11-slim, pinned by digest, so a rebuild gets the very same
# image (the tag alone moves with every Debian and Python patch). To move to a newer one:
#   docker buildx imagetools inspect python:3.11-slim     # its "Digest:" line
# and put it here and in deploy/docker-compose.yml (ARCTICROUTE_BASE_IMAGE's default; a test
# keeps the two equal). A build on a machine without a registry overrides it with a local image:
#   docker build --build-arg BASE_IMAGE=python:3.11-slim .   (compose: ARCTICROUTE_BASE_IMAGE)
ARG BASE_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

# -- builder: a virtual environment with the locked runtime set and the project ------------------
FROM ${BASE_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_NO_CACHE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never

# uv at the version and hashes requirements-uv.txt locks, beside (not inside) the environment.
COPY requirements-uv.txt /build/
RUN python3 -m pip install --quiet --require-hashes --no-deps --only-binary :all: \
        --target /build/uv -r /build/requirements-uv.txt

# The runtime set: every package pinned and checked against its sha256 (no dev tools), compiled
# to bytecode here: with PYTHONDONTWRITEBYTECODE=1 (set below) a process never writes any, so
# without it every command would compile ~1,000 modules from source at each start (seconds).
COPY requirements.txt /build/
RUN python3 -m venv --without-pip /opt/venv \
    && /build/uv/bin/uv pip install --quiet --python /opt/venv/bin/python --require-hashes --compile-bytecode \
        -r /build/requirements.txt

# The project, installed editable from /app so commands find scripts/, apps/ and config/ beside
# lib/ exactly as in a checkout (the runtime stage copies the same tree to the same path).
COPY pyproject.toml README.md /app/
COPY lib /app/lib
RUN /build/uv/bin/uv pip install --quiet --python /opt/venv/bin/python --no-deps --no-build-isolation -e /app \
    && rm -rf /app/lib/*.egg-info

# Size: not needed to run, so removed here: the packages' own test suites and C headers,
# pyarrow's Flight RPC and S3 file system (about 50 MB; nothing here uses them, and pyarrow.fs
# then reports S3 as not built), pydeck's Jupyter extension (about 50 MB; Streamlit draws
# deck.gl maps with its own copy). The bytecode stays (about 130 MB; 920 MB in all): a larger
# image is better than commands that spend seconds compiling at every start. Type stubs stay:
# scikit-image loads its lazy imports from __init__.pyi. Stripping the libraries' symbols is not
# done: it breaks the wheels' patched libraries (numpy's OpenBLAS no longer loads).
WORKDIR /opt/venv/lib/python3.11/site-packages
RUN find /opt/venv -depth -type d -name tests -exec rm -rf {} + \
    && find /opt/venv -type f \( -name '*.pxd' -o -name '*.pyx' \) -delete \
    && rm -rf pyarrow/include pyarrow/src numpy/_core/include pyarrow/_pyarrow_cpp_tests.* \
        pyarrow/_flight.* pyarrow/libarrow_flight.* pyarrow/libarrow_python_flight.* pyarrow/flight.py \
        pyarrow/__pycache__/flight.* \
        pyarrow/_s3fs.* pyarrow/libarrow_s3.* pydeck/nbextension/static /opt/venv/share/jupyter

# -- runtime ---------------------------------------------------------------------------------------
FROM ${BASE_IMAGE}

# The commit and version this image was built from, for health.check and the artifacts' meta.
ARG GIT_SHA=unknown
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="arcticroute" \
      org.opencontainers.image.description="Arctic ship-route planning ops stack: UI and commands" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_SHA}"

# A fixed uid/gid, so bind-mounted folders can be given to it (chown 10001:10001) or the
# container run as the host user (compose: ARCTICROUTE_UID/ARCTICROUTE_GID). The home is the
# user's own (0755, not world-writable): nothing is written there (caches go to /tmp).
RUN groupadd --system --gid 10001 arcticroute \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/arcticroute --create-home \
        --shell /usr/sbin/nologin arcticroute \
    && mkdir -p /data /reports /outputs \
    && chown 10001:10001 /data /reports /outputs \
    && chmod 0755 /home/arcticroute

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
COPY scripts /app/scripts
COPY apps /app/apps
COPY config /app/config
COPY deploy/docker/healthcheck.py /app/deploy/docker/healthcheck.py
# The project's bytecode, checked against the sources' mtimes as usual (COPY keeps them).
RUN python3 -m compileall -q --invalidation-mode timestamp /app/lib /app/scripts /app/apps /app/deploy/docker > /dev/null

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/arcticroute \
    MPLCONFIGDIR=/tmp/matplotlib \
    NUMBA_CACHE_DIR=/tmp/numba-cache \
    ARCTICROUTE_DATA=/data \
    ARCTICROUTE_REPORTS=/reports \
    ARCTICROUTE_OUTPUTS=/outputs \
    ARCTICROUTE_ADDRESS=0.0.0.0 \
    ARCTICROUTE_PORT=8501 \
    ARCTICROUTE_GIT_SHA=${GIT_SHA}

WORKDIR /app
VOLUME ["/data", "/reports", "/outputs"]
USER 10001:10001
EXPOSE 8501

# Streamlit answers every path with 200 and its page, so the probe reads the body of /api/health.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]

# `ui` (the default) serves the UI and /api/*; any other word is a command: `health.check`,
# `ingest.nrt.pull --dry-run`, `--help` ...
ENTRYPOINT ["arcticroute"]
CMD ["ui"]
