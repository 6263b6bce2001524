// Command kstatus prints the kstatus verdict (sigs.k8s.io/cli-utils/pkg/kstatus/status.Compute)
// for Kubernetes objects read as JSON from stdin: one object, or a JSON array of objects.
// For each object it writes one JSON line {"status": "...", "message": "..."} to stdout.
//
// lakeserve's tests use it to check that the status the operator writes means what it should
// to kstatus (Current, InProgress, Failed, Terminating), the library that kpt, Flux, cli-utils'
// applier and others use to wait on arbitrary objects.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	objects, err := decode(data)
	if err != nil {
		return err
	}
	encoder := json.NewEncoder(out)
	for _, object := range objects {
		result, err := status.Compute(object)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", object.GetKind(), object.GetName(), err)
		}
		if err := encoder.Encode(verdict{Status: result.Status.String(), Message: result.Message}); err != nil {
			return err
		}
	}
	return nil
}

// decode reads one object or an array of them. Each goes through Unstructured's own JSON
// decoding, which keeps integers as int64 (as objects from the API server are), not float64.
func decode(data []byte) ([]*unstructured.Unstructured, error) {
	trimmed := bytes.TrimSpace(data)
	raws := []json.RawMessage{trimmed}
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("stdin is not a JSON array of objects: %w", err)
		}
	}
	objects := make([]*unstructured.Unstructured, 0, len(raws))
	for i, raw := range raws {
		object := &unstructured.Unstructured{}
		if err := object.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("object %d: %w", i, err)
		}
		objects = append(objects, object)
	}
	return objects, nil
}
