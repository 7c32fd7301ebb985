package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// jobSchema lists the fields of a Kubernetes batch/v1 Job that the study
// manifest may use, with their types (from the Job API reference): a map is
// an object whose keys must be listed, a one-element slice a list of that,
// "string"/"int" scalars, "map" a free string map (labels, resources).
var jobSchema = map[string]any{
	"apiVersion": "string",
	"kind":       "string",
	"metadata":   map[string]any{"name": "string", "labels": "map"},
	"spec": map[string]any{
		"completionMode": "string",
		"completions":    "int",
		"parallelism":    "int",
		"backoffLimit":   "int",
		"template": map[string]any{
			"metadata": map[string]any{"labels": "map"},
			"spec": map[string]any{
				"restartPolicy": "string",
				"containers": []any{map[string]any{
					"name": "string", "image": "string", "command": []any{"string"}, "args": []any{"string"},
					"resources":    map[string]any{"requests": "map", "limits": "map"},
					"volumeMounts": []any{map[string]any{"name": "string", "mountPath": "string"}},
				}},
				"volumes": []any{map[string]any{"name": "string", "persistentVolumeClaim": map[string]any{"claimName": "string"}}},
			},
		},
	},
}

// checkSchema reports the first field of v that the schema does not allow.
func checkSchema(path string, v, schema any) error {
	switch s := schema.(type) {
	case string:
		switch s {
		case "string":
			if _, ok := v.(string); !ok {
				return fmt.Errorf("%s: want a string, got %T", path, v)
			}
		case "int":
			if _, ok := v.(int); !ok {
				return fmt.Errorf("%s: want an integer, got %T", path, v)
			}
		case "map":
			m, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: want a map, got %T", path, v)
			}
			for k, x := range m {
				if _, ok := x.(string); !ok {
					return fmt.Errorf("%s.%s: want a string value, got %T", path, k, x)
				}
			}
		}
	case []any:
		l, ok := v.([]any)
		if !ok || len(l) == 0 {
			return fmt.Errorf("%s: want a non-empty list, got %T", path, v)
		}
		for i, x := range l {
			if err := checkSchema(fmt.Sprintf("%s[%d]", path, i), x, s[0]); err != nil {
				return err
			}
		}
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", path, v)
		}
		for k, x := range m {
			sub, ok := s[k]
			if !ok {
				return fmt.Errorf("%s.%s: not a field of a batch/v1 Job (or not one this check knows)", path, k)
			}
			if err := checkSchema(path+"."+k, x, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// get returns the value at a dotted path of nested maps.
func get(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// flagsOf returns the flags a valueexp command defines, read from its -h.
func flagsOf(t *testing.T, cmd string) map[string]bool {
	t.Helper()
	_, stdout, _ := runCLI(t, "", cmd, "-h")
	out := map[string]bool{}
	// Flag lines: "  --name ARG" or "  --name, -x ARG".
	for _, m := range regexp.MustCompile(`(?m)^  --([\w-]+)(?:, -(\w))?`).FindAllStringSubmatch(stdout, -1) {
		out[m[1]] = true
		if m[2] != "" {
			out[m[2]] = true
		}
	}
	require.NotEmpty(t, out, "no flags read from valueexp %s -h", cmd)
	return out
}

var reInvocation = regexp.MustCompile(`valueexp (\w+)((?:\s+(?:--?[\w-]+|'[^']*'|"[^"]*"|[^\s&;'"]+))*)`)

// checkInvocations checks every `valueexp CMD --flag ...` in text names an
// existing command and only flags it defines.
func checkInvocations(t *testing.T, name, text string) int {
	t.Helper()
	cmds := commands()
	n := 0
	for _, m := range reInvocation.FindAllStringSubmatch(text, -1) {
		if _, ok := cmds[m[1]]; !ok {
			t.Errorf("%s: unknown command valueexp %s", name, m[1])
			continue
		}
		flags := flagsOf(t, m[1])
		for _, f := range regexp.MustCompile(`(?:^|\s)--?([\w-]+)`).FindAllStringSubmatch(m[2], -1) {
			if !flags[f[1]] {
				t.Errorf("%s: valueexp %s has no flag --%s", name, m[1], f[1])
			}
		}
		n++
	}
	return n
}

// TestStudyKubernetesManifest validates docs/study-k8s.yaml: every document
// is a batch/v1 Job using only known fields with the right types, pods
// restart only as a Job allows, an Indexed Job's `--shards N` equals its
// completions and its output names the completion index, and every
// valueexp command line uses existing commands and flags.
func TestStudyKubernetesManifest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "study-k8s.yaml"))
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var stages []string
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		name, _ := get(doc, "metadata.name").(string)
		require.NoError(t, checkSchema(name, doc, jobSchema))
		require.Equal(t, "batch/v1", doc["apiVersion"], name)
		require.Equal(t, "Job", doc["kind"], name)
		require.NotEmpty(t, name)
		require.Contains(t, []any{"Never", "OnFailure"}, get(doc, "spec.template.spec.restartPolicy"), "%s: a Job's pods must not restart Always", name)
		containers := get(doc, "spec.template.spec.containers").([]any)
		var script strings.Builder
		for _, c := range containers {
			require.NotEmpty(t, get(c, "image"), name)
			for _, a := range get(c, "command").([]any) {
				script.WriteString(a.(string) + " ")
			}
		}
		if get(doc, "spec.completionMode") == "Indexed" {
			n, ok := get(doc, "spec.completions").(int)
			require.True(t, ok && n > 0, "%s: an Indexed Job needs completions", name)
			require.Contains(t, script.String(), "--shards "+strconv.Itoa(n), name)
			require.Contains(t, script.String(), "${JOB_COMPLETION_INDEX}", "%s: each index must write its own file", name)
		} else {
			require.Nil(t, get(doc, "spec.completionMode"), name)
		}
		require.Positive(t, checkInvocations(t, name, script.String()), name)
		stages = append(stages, get(doc, "metadata.labels.stage").(string))
	}
	require.Equal(t, []string{"record", "identify", "evaluate", "report"}, stages)
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	require.True(t, strings.Contains(string(readme), "docs/study-k8s.yaml"), "README does not show docs/study-k8s.yaml")
}

// TestStudySlurmScript checks docs/study-slurm.sh with `bash -n` and its
// valueexp command lines against the commands' flags.
func TestStudySlurmScript(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "study-slurm.sh")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	out, err := exec.Command(bash, "-n", path).CombinedOutput()
	require.NoError(t, err, "bash -n: %s", out)
	require.Equal(t, 6, checkInvocations(t, "study-slurm.sh", string(b)))
	require.Contains(t, string(b), "$SLURM_ARRAY_TASK_ID")
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	require.True(t, strings.Contains(string(readme), "docs/study-slurm.sh"), "README does not show docs/study-slurm.sh")
}
