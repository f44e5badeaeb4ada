.PHONY: build test generate chart kube-binaries

build: ## build bin/psp
	go build -o bin/psp ./cmd/psp

test: ## every check and test (installs its own tools)
	hack/test.sh

generate: ## regenerate DeepCopy code and the CRD (deploy/crds)
	go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0 object crd paths=./pkg/apis/... output:crd:artifacts:config=deploy/crds

chart: ## regenerate the chart's generated files and deploy/manifests, lint and check the chart (needs helm: hack/test.sh installs it)
	go build -o .cache/tools/psp ./cmd/psp
	hack/chart.sh .cache/tools/helm-v4.3.1 .cache/tools/psp

kube-binaries: ## build Kubernetes v1.37.2 and etcd for the e2e suite (cached in ~/.cache/kube-psp)
	hack/kube-binaries.sh
