// Command etcd is the etcd server of the version k8s.io/kubernetes v1.37.2
// depends on, built from the module proxy for the e2e suite.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
