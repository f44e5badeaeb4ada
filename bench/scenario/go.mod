module github.com/kube-psp/kube-psp/bench/scenario

go 1.26
