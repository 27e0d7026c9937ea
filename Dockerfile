# Build: docker build -t coalesce .
# Run:   docker compose up   (see docker-compose.yml)
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p coalesce && strip target/release/coalesce

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/coalesce --create-home coalesce
COPY --from=build /src/target/release/coalesce /usr/local/bin/coalesce
COPY config /etc/coalesce
USER coalesce
WORKDIR /var/lib/coalesce
VOLUME ["/var/lib/coalesce"]
EXPOSE 8080
ENTRYPOINT ["coalesce"]
CMD ["serve", "--config", "/etc/coalesce/coalesce.toml"]
