.PHONY: build test generate

build: ## build bin/psp
	go build -o bin/psp ./cmd/psp

test: ## every check and test (installs its own tools)
	hack/test.sh

generate: ## regenerate DeepCopy code
	go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0 object paths=./pkg/apis/...
