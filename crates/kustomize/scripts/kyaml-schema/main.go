// Prints, as JSON on stdout, the OpenAPI schema kustomize's kyaml embeds
// (the one `kustomize build` uses for strategic merge patches). Built by
// gen-smp-schema.py against the kyaml the testbed pins.
package main

import (
	"encoding/json"
	"os"

	"sigs.k8s.io/kustomize/kyaml/openapi"
)

func main() {
	openapi.ResetOpenAPI()
	out, err := json.Marshal(openapi.Schema())
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(out)
}
