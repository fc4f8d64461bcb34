# One image for every role: `sa-server static|store|auth …` (k8s/ passes the role as args).
#
# The build stage runs the same `cargo xtask build` as a local build (k8s/tests/dockerfile.rs
# checks this), so the image can't be built differently from what was tested. The layers before
# it only put the tools in place, so they stay cached while the sources change.

FROM rust:1.95-bookworm AS build
ENV CARGO_TERM_COLOR=never
RUN apt-get update \
 && apt-get install -y --no-install-recommends brotli nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The tools come from the same `cargo xtask setup` as on a developer's machine (pinned there,
# once), in a layer of their own: it needs only the workspace manifests and xtask, so it stays
# cached while the sources change. The other members are stubs until `COPY . .`.
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY xtask xtask
COPY shared/Cargo.toml shared/
COPY server/Cargo.toml server/
COPY client/Cargo.toml client/
COPY explorer/Cargo.toml explorer/
COPY k8s/Cargo.toml k8s/
RUN for d in shared server client explorer k8s; do \
      mkdir -p $d/src && touch $d/src/lib.rs && echo 'fn main() {}' > $d/src/main.rs; \
    done \
 && cargo xtask setup \
 && rm -rf shared/src server/src client/src explorer/src k8s/src
COPY . .
RUN cargo xtask build

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/server/sa-server /usr/local/bin/sa-server
COPY --from=build /src/dist/client /app/dist/client
COPY --from=build /src/dist/explorer /app/dist/explorer
WORKDIR /app
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/sa-server"]
