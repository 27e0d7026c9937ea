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
# Reachable through `docker run -p 8080:8080`; links in feeds and calendars use PUBLIC_URL, which
# must be what clients type (override it for any other host name or port).
ENV COALESCE_SERVER__LISTEN=0.0.0.0:8080 \
    COALESCE_SERVER__PUBLIC_URL=http://localhost:8080 \
    COALESCE_DATA__DIR=/var/lib/coalesce/data \
    COALESCE_LOG__FORMAT=json
EXPOSE 8080
# Ready = serving with the search index open and the store writable (no curl in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["coalesce"]
CMD ["serve", "--config", "/etc/coalesce/coalesce.toml"]
