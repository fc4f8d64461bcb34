# One image for every role: `sa-server static|store|auth …` (k8s/ passes the role as args).
#
# The build stage runs the same `cargo xtask build` as a local build (k8s/tests/dockerfile.rs
# checks this), so the image can't be built differently from what was tested. The layers before
# it only put the tools in place, so they stay cached while the sources change.

FROM rust:1.95-bookworm AS build
ENV CARGO_TERM_COLOR=never \
    PATH=/opt/binaryen/node_modules/.bin:/usr/local/cargo/bin:$PATH
RUN apt-get update \
 && apt-get install -y --no-install-recommends brotli nodejs npm \
 && rm -rf /var/lib/apt/lists/*
# rust-src: std is rebuilt for the apps' size (xtask/src/apps.rs).
RUN rustup target add wasm32-unknown-unknown && rustup component add rust-src
# Trunk 0.22 needs a newer rustc; 0.21 is the line that builds with 1.95 (shared/TOOLCHAIN.md).
RUN cargo install trunk --locked --version ~0.21
# wasm-opt from npm (Debian's binaryen 108 breaks the wasm).
RUN npm install --prefix /opt/binaryen binaryen@132
WORKDIR /src
# wasm-bindgen-cli must be exactly the version of the wasm-bindgen crate in Cargo.lock.
COPY Cargo.lock ./
RUN cargo install wasm-bindgen-cli --version "=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)"
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
