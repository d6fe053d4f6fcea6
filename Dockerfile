# Multi-stage build of factus-api and factus-sandbox.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# factus-api without the in-process simulator (`--no-default-features`, README "Deployment");
# the simulator ships as its own binary for the compose profile "sandbox".
RUN cargo build --release --locked -p factus-server --no-default-features \
    && cargo build --release --locked -p factus-sandbox

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 factus
COPY --from=build /src/target/release/factus-api /usr/local/bin/factus-api
COPY --from=build /src/target/release/factus-sandbox /usr/local/bin/factus-sandbox
USER factus
WORKDIR /home/factus
ENV BIND_ADDR=0.0.0.0:8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8000/api/v1/health/ready || exit 1
ENTRYPOINT ["factus-api"]
