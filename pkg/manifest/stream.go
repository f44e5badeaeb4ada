package manifest

import (
	"bytes"
	"io"
	"runtime"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/internal/parallel"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/yamlfile"
)

// Each reads every path as ReadAll does, without holding the workloads:
// it calls yield with each workload, in input order, as soon as its file
// is parsed (files are parsed in parallel, a few per core ahead of the one
// yielded, so memory does not grow with the input), and warn with each
// warning of a document as its file is reached (nil: they are kept in
// Input.Warnings). A workload's ServiceAccount may be in any file, before
// or after it: the files that name the kind ServiceAccount are parsed for
// them first, so every file is read twice and parsed once or twice. The
// Input returned has every field but Workloads. An error of yield stops
// the reading and is returned, as is a path that cannot be read.
func Each(paths []string, stdin io.Reader, opts Options, warn func(string), yield func(Workload) error) (*Input, error) {
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = "default"
	}
	res := &Input{ServiceAccounts: map[string]*corev1.ServiceAccount{}, Namespaces: map[string]*corev1.Namespace{}}
	inputs, err := yamlfile.List(paths, stdin, opts.Recursive)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		if p != "-" && !opts.Recursive && yamlfile.HasSubdirectories(p) {
			res.Unread = append(res.Unread, p)
		}
	}
	// First the ServiceAccounts: the later of two with the same key wins.
	found := make([]parsed, len(inputs))
	parallel.Each(len(inputs), func(i int) {
		if data, err := inputs[i].Read(); err == nil && bytes.Contains(data, []byte("ServiceAccount")) {
			found[i] = parsed{serviceAccounts: parse(inputs[i].Name, data, opts).serviceAccounts}
		}
	})
	for _, p := range found {
		for _, sa := range p.serviceAccounts {
			res.ServiceAccounts[sa.Namespace+"/"+sa.Name] = sa
		}
	}
	found = nil
	type file struct {
		name string
		parsed
	}
	read := func(in yamlfile.File) file {
		data, err := in.Read()
		if err != nil {
			return file{in.Name, parsed{errs: []error{err}}}
		}
		return file{in.Name, parse(in.Name, data, opts)}
	}
	err = parallel.Ordered(4*runtime.GOMAXPROCS(0), parallel.Items(inputs), read, func(f file) error {
		res.Files = append(res.Files, f.name)
		res.Errors = append(res.Errors, f.errs...)
		for _, w := range f.warnings {
			if warn == nil {
				res.Warnings = append(res.Warnings, w)
			} else {
				warn(w)
			}
		}
		for _, ns := range f.namespaces {
			res.Namespaces[ns.Name] = ns
		}
		for _, k := range f.others {
			if !slices.Contains(res.Others, k) {
				res.Others = append(res.Others, k)
			}
		}
		for _, w := range f.workloads {
			w.ServiceAccount = res.ServiceAccounts[w.Namespace+"/"+podcreate.ServiceAccountName(w.Pod)]
			if err := yield(w); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}
