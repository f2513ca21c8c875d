# syntax=docker/dockerfile:1
# Multi-stage build: dependencies are compiled in their own cached layer, the runtime image
# holds the binary, CA certificates and nothing else, and runs as a non-root user.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependency layer: build against an empty crate so this layer survives source changes.
# Every `[[bench]]` in Cargo.toml needs its file for the manifest to load: stub them all.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && for bench in jobs ledger discord; do echo 'fn main() {}' > "benches/$bench.rs"; done \
    && cargo build --release --locked --bin seedance-bot \
    && rm -rf src benches
COPY src ./src
COPY benches ./benches
# The stubs' build left newer timestamps behind: make cargo see the real sources as changed.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin seedance-bot

FROM debian:bookworm-slim AS runtime
# Unpinned on purpose: the CA bundle should be the newest the distribution ships.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 seedance \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin seedance \
    && mkdir -p /data && chown 10001:10001 /data
COPY --from=build /src/target/release/seedance-bot /usr/local/bin/seedance-bot
USER 10001:10001
WORKDIR /data
# Configuration comes from the environment (SEEDANCE_BOT__SECTION__KEY, DISCORD_TOKEN,
# SEEDANCE_API_KEY); the store lives in the /data volume.
ENV SEEDANCE_BOT__STORAGE__PATH=/data/store \
    SEEDANCE_BOT__LOGGING__FORMAT=json \
    SEEDANCE_BOT__HTTP__LISTEN=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/data"]
# The image has no curl: the binary asks its own /healthz (2 s timeout, exit 0 on 200).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/seedance-bot", "healthcheck"]
# SIGTERM (docker stop) drains and exits 0 within a few seconds, inside docker's 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/seedance-bot"]
CMD ["run"]
