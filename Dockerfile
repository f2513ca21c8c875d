# syntax=docker/dockerfile:1
# Multi-stage build: dependencies are compiled in their own cached layer, the runtime image
# holds the binary, CA certificates and nothing else, and runs as a non-root user.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependency layer: build against an empty crate so this layer survives source changes.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/ledger.rs \
    && cargo build --release --locked --bin seedance-bot \
    && rm -rf src benches
COPY src ./src
COPY benches ./benches
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin seedance-bot

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin seedance \
    && mkdir -p /data && chown seedance /data
COPY --from=build /src/target/release/seedance-bot /usr/local/bin/seedance-bot
USER seedance
WORKDIR /data
ENV SEEDANCE_BOT__STORAGE__PATH=/data/store \
    SEEDANCE_BOT__LOGGING__FORMAT=json
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/seedance-bot"]
CMD ["run"]
