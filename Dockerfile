# syntax=docker/dockerfile:1
# The skiff agent image: the two release binaries on distroless (glibc, CA
# certificates, user nonroot 65532, no shell): `skiff-agent`, which the
# entrypoint runs, and the `skiff` front (the CLI people run; it execs
# `/skiff-agent` for cluster commands, e.g. `kubectl exec ... -- /skiff get apps`).
# From the repository root:
#   docker build -t ghcr.io/skiff-dev/skiff:0.1.0 .

FROM rust:1.95-bookworm AS build
WORKDIR /src
# libgit2, libssh2 and OpenSSL are vendored by git2's features and kube and
# reqwest use rustls, so zlib is the one C library left that the build would
# take from the system (libz-sys finds the builder's libz.so.1 with
# pkg-config); link it statically so the binary needs only glibc and libgcc_s,
# which the cc image has.
ENV LIBZ_SYS_STATIC=1
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY crates ./crates
COPY config ./config
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin skiff --bin skiff-agent \
    && cp target/release/skiff target/release/skiff-agent /usr/local/bin/

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/skiff /usr/local/bin/skiff-agent /
USER 65532:65532
# /metrics, /healthz and /readyz (metricsAddress).
EXPOSE 8080
# The configuration comes from the skiff-config ConfigMap (manifests/install.yaml).
ENTRYPOINT ["/skiff-agent", "agent", "--config", "/etc/skiff/skiff.yaml"]
