package cvoice

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveSetNames(t *testing.T) {
	// The names `valueexp identify --per-language --random-control` writes,
	// plus a pooled set and a set that is not named after a value.
	file := []string{"富强/zh", "富强/en", "诚信/zh", "诚信/en", "random:富强/zh", "random:富强/en", "法治", "mine"}
	english := []string{"Integrity/en", "Integrity/zh"}
	for _, c := range []struct {
		avail []string
		req   []string
		want  []string
	}{
		{file, []string{"富强/zh"}, []string{"富强/zh"}},
		{file, []string{"Prosperity"}, []string{"富强/zh", "富强/en"}},
		{file, []string{"prosperity/zh"}, []string{"富强/zh"}},
		{file, []string{"PROSPERITY/EN"}, []string{"富强/en"}},
		{file, []string{" Prosperity / zh "}, []string{"富强/zh"}},
		{file, []string{"富强"}, []string{"富强/zh", "富强/en"}},
		{file, []string{"Integrity/en", "Prosperity/zh"}, []string{"诚信/en", "富强/zh"}},
		{file, []string{"Prosperity", "富强/zh"}, []string{"富强/zh", "富强/en"}}, // each once
		{file, []string{"random:Prosperity/zh"}, []string{"random:富强/zh"}},
		{file, []string{"Random:prosperity"}, []string{"random:富强/zh", "random:富强/en"}},
		{file, []string{"rule of law"}, []string{"法治"}},
		{file, []string{"Rule-Of-Law"}, []string{"法治"}},
		{file, []string{"MINE"}, []string{"mine"}},
		{file, []string{"诚信/zh", ""}, []string{"诚信/zh"}},
		{english, []string{"诚信/zh"}, []string{"Integrity/zh"}},
		{english, []string{"integrity"}, []string{"Integrity/en", "Integrity/zh"}},
	} {
		got, err := ResolveSetNames(c.avail, c.req)
		require.NoError(t, err, "%q", c.req)
		assert.Equal(t, c.want, got, "%q", c.req)
	}
}

func TestResolveSetNamesErrors(t *testing.T) {
	file := []string{"富强/zh", "富强/en", "random:富强/zh", "诚信/zh"}
	for _, c := range []struct {
		req      []string
		contains []string
	}{
		{[]string{"Prosperty"}, []string{`"Prosperty" not found`, "available: 富强/zh, 富强/en, 诚信/zh", "1 random controls"}},
		{[]string{"Democracy"}, []string{"no neuron set for Democracy (民主)", "available: 富强/zh"}},
		{[]string{"Integrity/en"}, []string{"Integrity (诚信) in en", `"Integrity/en"`}},
		{[]string{"random:诚信/zh"}, []string{"random control of Integrity (诚信) in zh"}},
		{[]string{"Democracy", "nope"}, []string{"Democracy (民主)", `"nope" not found`}},
		{[]string{"", " "}, []string{"no neuron-set names given"}},
	} {
		_, err := ResolveSetNames(file, c.req)
		require.Error(t, err, "%q", c.req)
		for _, s := range c.contains {
			assert.Contains(t, err.Error(), s, "%q", c.req)
		}
	}
	_, err := ResolveSetNames(nil, []string{"诚信"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the file holds no neuron sets")
}

func ExampleResolveSetNames() {
	inFile := []string{"富强/zh", "富强/en", "诚信/zh", "诚信/en", "random:诚信/zh"}
	names, err := ResolveSetNames(inFile, []string{"Integrity", "prosperity/ZH"})
	fmt.Println(names, err)
	_, err = ResolveSetNames(inFile, []string{"Harmony"})
	fmt.Println(err)
	// Output:
	// [诚信/zh 诚信/en 富强/zh] <nil>
	// no neuron set for Harmony (和谐) (asked as "Harmony"); available: 富强/zh, 富强/en, 诚信/zh, 诚信/en (and 1 random controls, named random:NAME); a value may be named in Chinese or English, with /zh or /en for one language
}

// FuzzResolveSetNames checks, for any available names and request, that
// resolving never panics, returns only available names and each once, and
// that every available name resolves to itself when asked for exactly.
func FuzzResolveSetNames(f *testing.F) {
	f.Add("富强/zh\n富强/en\nrandom:富强/zh\n诚信/en", "Prosperity,integrity/EN")
	f.Add("Integrity/en\nIntegrity/zh\n法治", "诚信/zh,rule of law, random:x")
	f.Add("a/b/zh\n/zh\nrandom:\nRANDOM:/en", "/ZH,random:,a/b")
	f.Fuzz(func(t *testing.T, avail, req string) {
		names := strings.Split(avail, "\n")
		got, err := ResolveSetNames(names, strings.Split(req, ","))
		if err == nil {
			seen := map[string]bool{}
			for _, g := range got {
				if !slices.Contains(names, g) || seen[g] {
					t.Fatalf("result %q: not available or repeated (available %q)", got, names)
				}
				seen[g] = true
			}
		}
		for _, a := range names {
			if a == "" || a != strings.TrimSpace(a) || strings.Contains(a, ",") {
				continue
			}
			got, err := ResolveSetNames(names, []string{a})
			if err != nil || len(got) != 1 || got[0] != a {
				t.Fatalf("exact name %q resolved to %q, %v", a, got, err)
			}
		}
	})
}
