package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// The project's flag conventions, shared by every command: one spelling per
// idea (--model, --out, --threads/-t, --max-tokens/-n, --data, --lang,
// --seed), old spellings still accepted with a note on stderr, help on
// stdout, and flags always shown as --name (one-letter ones as -x), in the
// usage line, the flag list and error messages alike.

// flagSet is a command's flag set with aliases and deprecated spellings.
type flagSet struct {
	*flag.FlagSet
	e        *env
	name     string
	synopsis string // the usage line after "valueexp NAME"
	help     string // text printed between the usage line and the flags
	// aliases maps another name of a flag to its canonical name; deprecated
	// ones are left out of the flag list and noted on stderr when used.
	aliases    map[string]string
	deprecated map[string]bool
	noted      map[string]bool
}

// flagDefiner is what helpers that register a group of flags need; both
// *flag.FlagSet and *flagSet provide it.
type flagDefiner interface {
	StringVar(p *string, name, value, usage string)
	Var(v flag.Value, name, usage string)
}

// newFlags returns a command's flag set. synopsis is the usage line; text
// after a blank line in it is printed as the command's description.
func newFlags(e *env, name, synopsis string) *flagSet {
	fs := &flagSet{
		FlagSet: flag.NewFlagSet(name, flag.ContinueOnError),
		e:       e, name: name,
		aliases: map[string]string{}, deprecated: map[string]bool{}, noted: map[string]bool{},
	}
	fs.synopsis, fs.help, _ = strings.Cut(synopsis, "\n\n")
	// Errors and help are printed by parseFlags, in this file's spelling.
	fs.FlagSet.SetOutput(io.Discard)
	fs.FlagSet.Usage = func() {}
	return fs
}

// alias makes name another spelling of the flag canonical, e.g. "t" for
// "threads". It panics when canonical is not defined: a programming error
// found by every test that runs the command's --help.
func (fs *flagSet) alias(name, canonical string) {
	f := fs.Lookup(canonical)
	if f == nil {
		panic("valueexp: alias of undefined flag " + canonical)
	}
	fs.Var(f.Value, name, f.Usage)
	fs.aliases[name] = canonical
}

// deprecate keeps old as a working spelling of canonical that prints a note
// on stderr when used, and leaves it out of the flag list.
func (fs *flagSet) deprecate(old, canonical string) {
	f := fs.Lookup(canonical)
	if f == nil {
		panic("valueexp: deprecated spelling of undefined flag " + canonical)
	}
	fs.Var(deprecatedValue{Value: f.Value, note: func() {
		if !fs.noted[old] {
			fs.noted[old] = true
			fmt.Fprintf(fs.e.stderr, "valueexp %s: note: %s is deprecated; use %s\n", fs.name, flagName(old), fs.spell(canonical))
		}
	}}, old, f.Usage)
	fs.aliases[old] = canonical
	fs.deprecated[old] = true
}

// deprecatedValue forwards to the flag it stands for after a note.
type deprecatedValue struct {
	flag.Value
	note func()
}

func (d deprecatedValue) Set(s string) error {
	d.note()
	return d.Value.Set(s)
}

// IsBoolFlag keeps "--old" without a value working for boolean flags.
func (d deprecatedValue) IsBoolFlag() bool {
	b, ok := d.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// flagName spells a flag as users type it: -x for one letter, --name else.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// spell names a flag with its short alias: "--max-tokens (-n)".
func (fs *flagSet) spell(name string) string {
	if c, ok := fs.aliases[name]; ok {
		name = c
	}
	s := flagName(name)
	for _, a := range fs.visibleAliases(name) {
		s += " (" + flagName(a) + ")"
	}
	return s
}

// visibleAliases returns the non-deprecated aliases of canonical, sorted.
func (fs *flagSet) visibleAliases(canonical string) []string {
	var out []string
	for a, c := range fs.aliases {
		if c == canonical && !fs.deprecated[a] {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// printHelp writes the usage line, the description and the flag list.
func (fs *flagSet) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: valueexp %s", fs.name)
	if fs.synopsis != "" {
		fmt.Fprintf(w, " %s", fs.synopsis)
	}
	fmt.Fprintln(w)
	if fs.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(fs.help, "\n"))
	}
	var any bool
	fs.VisitAll(func(f *flag.Flag) {
		if _, isAlias := fs.aliases[f.Name]; isAlias {
			return
		}
		if !any {
			fmt.Fprintln(w, "\nFlags:")
			any = true
		}
		arg, usage := flag.UnquoteUsage(f)
		arg = placeholder(arg)
		names := []string{flagName(f.Name)}
		for _, a := range fs.visibleAliases(f.Name) {
			names = append(names, flagName(a))
		}
		line := "  " + strings.Join(names, ", ")
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintln(w, line)
		if !isZeroDefault(f) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		var old []string
		for a, c := range fs.aliases {
			if c == f.Name && fs.deprecated[a] {
				old = append(old, flagName(a))
			}
		}
		if len(old) > 0 {
			sort.Strings(old)
			usage += " (formerly " + strings.Join(old, ", ") + ")"
		}
		fmt.Fprintf(w, "        %s\n", strings.ReplaceAll(usage, "\n", "\n        "))
	})
}

// placeholder names a flag's argument when its usage text does not:
// N for integers, X for numbers, TEXT for strings.
func placeholder(arg string) string {
	switch arg {
	case "int", "uint":
		return "N"
	case "float":
		return "X"
	case "string":
		return "TEXT"
	case "value":
		return "VALUE"
	}
	return arg
}

// isZeroDefault reports whether a flag's default is its type's zero value,
// which the flag list does not spell out.
func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false":
		return true
	}
	return false
}

// flagInMessage finds the flag named in the flag package's error messages.
var flagInMessage = regexp.MustCompile(`(for flag |for |argument: |defined: )-([^\s:=]+)`)

// explain rewrites a flag package error in this file's spelling, and for an
// unknown flag suggests the nearest defined one.
func (fs *flagSet) explain(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		msg = fmt.Sprintf("unknown flag %s", flagName(name))
		var known []string
		fs.VisitAll(func(f *flag.Flag) {
			if !fs.deprecated[f.Name] {
				known = append(known, f.Name)
			}
		})
		if near := nearest(name, known); near != "" {
			msg += fmt.Sprintf("; did you mean %s?", flagName(near))
		}
		return fmt.Errorf("%w: %s", errUsage, msg)
	}
	var named *flag.Flag
	msg = flagInMessage.ReplaceAllStringFunc(msg, func(m string) string {
		sub := flagInMessage.FindStringSubmatch(m)
		name := strings.TrimLeft(sub[2], "-")
		named = fs.Lookup(name)
		return strings.Replace(sub[1], "for flag ", "for ", 1) + fs.spell(name)
	})
	// The flag package says only "parse error"; say what was expected.
	if rest, ok := strings.CutSuffix(msg, ": parse error"); ok && named != nil {
		// The flag package's value types are unexported; their names say
		// what they hold (*flag.uint64Value).
		switch typ := fmt.Sprintf("%T", named.Value); {
		case strings.Contains(typ, "bool"):
			msg = rest + ": want true or false"
		case strings.Contains(typ, "uint"):
			msg = rest + ": want a whole number ≥ 0"
		case strings.Contains(typ, "int"):
			msg = rest + ": want an integer"
		case strings.Contains(typ, "float"):
			msg = rest + ": want a number"
		}
	}
	return fmt.Errorf("%w: %s", errUsage, msg)
}

// parseFlags parses args and reports flag errors and stray arguments as usage
// errors. Flags may follow positional arguments ("import a.xlsx b.xlsx --out
// x"), as users type them; fs.Args() then holds every positional argument.
// --help prints the command's help on stdout and returns flag.ErrHelp.
func parseFlags(fs *flagSet, args []string, allowArgs bool) error {
	if len(args) == 1 && args[0] == "help" { // valueexp CMD help
		fs.printHelp(fs.e.stdout)
		return flag.ErrHelp
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.printHelp(fs.e.stdout)
				return err
			}
			return fs.explain(err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" { // everything after -- is positional
			positional = append(positional, rest[1:]...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if len(positional) > 0 {
		if m := fs.Lookup("model"); m != nil && m.Value.String() == "" && (!allowArgs || looksLikeModelPath(positional[0])) {
			return usageErr("unexpected argument %q: did you mean --model %s?", positional[0], positional[0])
		}
	}
	if !allowArgs && len(positional) > 0 {
		return usageErr("unexpected arguments %q (valueexp %s takes flags only)", strings.Join(positional, " "), fs.name)
	}
	// Leave the positional arguments where callers look for them.
	_ = fs.Parse(append([]string{"--"}, positional...))
	return nil
}

// looksLikeModelPath reports whether a positional argument is probably a
// model given without --model: a model or tokenizer file name, or a folder.
func looksLikeModelPath(s string) bool {
	lower := strings.ToLower(s)
	for _, ext := range []string{".gguf", ".safetensors", "tokenizer.json"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	st, err := os.Stat(s)
	return err == nil && st.IsDir()
}

// nearest returns the candidate closest to s in edit distance, if it is
// close enough to be a plausible typo (or s is a prefix of it), else "".
func nearest(s string, candidates []string) string {
	if len([]rune(s)) < 3 { // every short name is one or two edits from another
		return ""
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if strings.HasPrefix(c, s) && len(s) >= 3 {
			d = min(d, 1)
		}
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if bestD <= max(1, min(3, len(s)/3)) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, by runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}
