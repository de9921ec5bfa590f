# svcnet's programs in one small image: svcsim (the simulator, which
# deploy/sweep-job.yaml runs), svcnetd (cluster DNS from manifests) and
# svcnetd-kube (cluster DNS from a Kubernetes API; built from the kube
# module). Static binaries on distroless, running as nonroot (65532).
#
#   docker build -t registry.example/svcnet:dev .
#   docker run --rm registry.example/svcnet:dev version
FROM golang:1.26 AS build
WORKDIR /src
# The modules first, so that a source change reuses their layer.
COPY go.mod go.sum ./
COPY kube/go.mod kube/go.sum ./kube/
RUN go mod download && cd kube && go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/svcsim ./cmd/svcsim && \
    go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/svcnetd ./cmd/svcnetd && \
    cd kube && go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/svcnetd-kube ./cmd/svcnetd-kube

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/svcsim /out/svcnetd /out/svcnetd-kube /
USER 65532:65532
ENTRYPOINT ["/svcsim"]
