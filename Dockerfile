# passgate's container image (SPEC §17): compiled from this source tree in the Rust image, run
# from a small Debian base as a non-root user, its data in the /data volume.
#
#   docker build -t passgate .                      (or: podman build -t passgate .)
#   docker run -d --name passgate -p 8000:8000 -v passgate-data:/data passgate
#   docker logs passgate                            # the first admin password, once
#
# Settings are the PASSGATE_* variables of the README (`-e PASSGATE_PUBLIC_URL=…`); the
# audit stream can go to the container's log with PASSGATE_AUDIT_FILE=- (standard output
# then carries audit lines only). The bases are build arguments, e.g. for a mirror:
#   docker build --build-arg RUST_IMAGE=mirror.example/rust:1.95-bookworm …
ARG RUST_IMAGE=docker.io/library/rust:1.95-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin passgate \
 && install -D -m 0755 target/release/passgate /out/usr/bin/passgate \
 && install -d -m 0700 /out/data

# glibc, and nothing else passgate needs (OpenSSL and SQLite are compiled in).
FROM ${RUNTIME_IMAGE}
COPY --from=build /out/usr/bin/passgate /usr/bin/passgate
# A user without a login, as systemd's DynamicUser: only /data is its own.
COPY --from=build --chown=10001:10001 /out/data /data
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
ENV PASSGATE_BIND=0.0.0.0:8000 \
    PASSGATE_DATABASE_URL=sqlite:///data/passgate.db?mode=rwc
EXPOSE 8000
# `passgate healthcheck` asks PASSGATE_BIND's /healthz (no curl in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["passgate", "healthcheck"]
# SIGTERM lets requests in flight finish.
STOPSIGNAL SIGTERM
ENTRYPOINT ["passgate"]
CMD ["serve"]
