// Command k8sschemagen writes svcnet's Kubernetes schema table
// (schemagen.Generate) to the file -o names, or to standard output.
//
//	cd kube && go run ./internal/schemagen/cmd/k8sschemagen -o ../internal/k8sschema/schema.txt
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/svcnet/svcnet/kube/internal/schemagen"
)

func main() {
	out := flag.String("o", "", "file to write the table to (default: standard output)")
	flag.Parse()
	b, err := schemagen.Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8sschemagen:", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(b)
	} else {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8sschemagen:", err)
		os.Exit(1)
	}
}
