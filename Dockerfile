# syntax=docker/dockerfile:1
#
# waflow's container image: one static binary, run as a non-root user, with
# no shell or package manager in the image (docs/deploy.md).
#
#   docker build -t waflow .                      # pure-Go RSA, static (default)
#   docker build -t waflow:openssl --target openssl .   # OpenSSL RSA backend
#
# The OpenSSL variant decrypts data-endpoint requests 2.3 to 2.7 times
# faster (docs/performance.md). It is built with cgo and -tags openssl and
# links libcrypto dynamically, so it is not static and runs on an image
# that ships glibc and OpenSSL 3 (distroless/base); the default image needs
# neither and runs on distroless/static.

ARG GO_VERSION=1.26.8
ARG VERSION=devel

# ---- build: the static, pure-Go binary ---------------------------------
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/waflow ./cmd/waflow \
 && /out/waflow version \
 && mkdir -p /out/data

# ---- build-openssl: cgo, linked against Debian 12's libcrypto 3 ---------
FROM golang:${GO_VERSION}-bookworm AS build-openssl
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION
RUN CGO_ENABLED=1 go build -tags openssl -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/waflow ./cmd/waflow \
 && /out/waflow version | grep -q 'rsa=openssl' \
 && mkdir -p /out/data

# ---- openssl: distroless/base has glibc and libssl3 (libcrypto.so.3), ---
# the same Debian 12 the binary was linked on, and no shell.
FROM gcr.io/distroless/base-debian12:nonroot AS openssl
COPY --from=build-openssl /out/waflow /usr/local/bin/waflow
COPY --from=build-openssl --chown=65532:65532 /out/data /var/lib/waflow
ENV WAFLOW_ADDR=:8080 \
    WAFLOW_DATA_DIR=/var/lib/waflow \
    WAFLOW_LOG_FORMAT=json
USER 65532:65532
VOLUME /var/lib/waflow
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/waflow", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/waflow"]
CMD ["serve"]

# ---- the default image: distroless/static (CA roots, tzdata, a nonroot
# user; no libc, no shell). Last, so that a plain "docker build" makes it.
FROM gcr.io/distroless/static-debian12:nonroot AS static
COPY --from=build /out/waflow /usr/local/bin/waflow
COPY --from=build --chown=65532:65532 /out/data /var/lib/waflow
ENV WAFLOW_ADDR=:8080 \
    WAFLOW_DATA_DIR=/var/lib/waflow \
    WAFLOW_LOG_FORMAT=json
USER 65532:65532
VOLUME /var/lib/waflow
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/waflow", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/waflow"]
CMD ["serve"]
