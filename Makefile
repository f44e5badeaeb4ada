.PHONY: build test generate

build: ## build bin/psp
	go build -o bin/psp ./cmd/psp

test: ## every check and test (installs its own tools)
	hack/test.sh

generate: ## regenerate DeepCopy code and the CRD (deploy/crds)
	go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0 object crd paths=./pkg/apis/... output:crd:artifacts:config=deploy/crds
