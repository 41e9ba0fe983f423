package main

// The oracle: answers questions about Go behaviour one JSON line at a time,
// so tests can compare the Python ports against Go on generated inputs.
//
//	{"op":"duration","arg":"1h30m"}        time.ParseDuration -> {"ns":...} or {"error":...}
//	{"op":"durationString","arg":5400e9}   time.Duration(arg).String()
//	{"op":"quantity","arg":<any JSON>}     resource.Quantity JSON round trip
//	{"op":"podtemplate","arg":<JSON>}      decode + encode (Go, i.e. Argo v1.10, and the <= 1.8 legacy form)
//	{"op":"steps","arg":<JSON>}            decode + encode []CanaryStep
//
// The last three first pass arg through the API server's untyped round trip
// (see apiServerRoundTrip), as every object a client reads has.
//	{"op":"float","arg":<number>}          encoding/json of a float64
//	{"op":"string","arg":"..."}            encoding/json of a string

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	kjson "sigs.k8s.io/json"

	"github.com/rollouts/rollouts/hack/gojson/argo"
)

type question struct {
	Op  string          `json:"op"`
	Arg json.RawMessage `json:"arg"`
}

type answer struct {
	Result any    `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// apiServerRoundTrip re-encodes JSON the way the API server stores custom
// resources: untyped, integers as int64, other numbers as float64, keys sorted.
func apiServerRoundTrip(raw json.RawMessage) (json.RawMessage, error) {
	var generic any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}

func ask(q question) (any, error) {
	switch q.Op {
	case "quantity", "podtemplate", "steps":
		stored, err := apiServerRoundTrip(q.Arg)
		if err != nil {
			return nil, err
		}
		q.Arg = stored
	}
	switch q.Op {
	case "duration":
		var s string
		if err := json.Unmarshal(q.Arg, &s); err != nil {
			return nil, err
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, err
		}
		return strconv.FormatInt(int64(d), 10), nil
	case "durationString":
		n, err := strconv.ParseInt(string(q.Arg), 10, 64)
		if err != nil {
			return nil, err
		}
		return time.Duration(n).String(), nil
	case "quantity":
		var quantity resource.Quantity
		if err := kjson.UnmarshalCaseSensitivePreserveInts(q.Arg, &quantity); err != nil {
			return nil, err
		}
		out, err := json.Marshal(quantity)
		return string(out), err
	case "podtemplate":
		var tmpl corev1.PodTemplateSpec
		if err := kjson.UnmarshalCaseSensitivePreserveInts(q.Arg, &tmpl); err != nil {
			return nil, err
		}
		goJSON, err := json.Marshal(&tmpl)
		if err != nil {
			return nil, err
		}
		legacyJSON, err := legacyTemplateJSON(&tmpl)
		if err != nil {
			return nil, err
		}
		return map[string]string{"goJSON": string(goJSON), "legacyJSON": string(legacyJSON)}, nil
	case "steps":
		var steps []argo.CanaryStep
		if err := kjson.UnmarshalCaseSensitivePreserveInts(q.Arg, &steps); err != nil {
			return nil, err
		}
		out, err := json.Marshal(steps)
		return string(out), err
	case "float":
		var f float64
		if err := json.Unmarshal(q.Arg, &f); err != nil {
			return nil, err
		}
		out, err := json.Marshal(f)
		return string(out), err
	case "string":
		var s string
		if err := json.Unmarshal(q.Arg, &s); err != nil {
			return nil, err
		}
		out, err := json.Marshal(s)
		return string(out), err
	}
	return nil, fmt.Errorf("unknown op %q", q.Op)
}

// oracle answers every line of in on out, one line each, in order.
func oracle(in io.Reader, out io.Writer) error {
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	for scanner.Scan() {
		var q question
		var a answer
		if err := json.Unmarshal(scanner.Bytes(), &q); err != nil {
			a.Error = "bad question: " + err.Error()
		} else if result, err := ask(q); err != nil {
			a.Error = err.Error()
		} else {
			a.Result = result
		}
		if err := enc.Encode(a); err != nil {
			return err
		}
		// Answer each question at once: callers wait for it before asking the next.
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return scanner.Err()
}

func runOracle() error { return oracle(os.Stdin, os.Stdout) }
