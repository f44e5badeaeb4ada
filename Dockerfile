# The kube-psp image the Helm chart runs (ghcr.io/kube-psp/kube-psp):
# one static binary on a distroless base, as user 65532.
#   docker build -t ghcr.io/kube-psp/kube-psp:0.1.0 .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY bench/scenario/go.mod bench/scenario/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/psp ./cmd/psp

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/psp /psp
USER 65532:65532
ENTRYPOINT ["/psp"]
