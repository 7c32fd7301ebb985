"""Random templates built from the constructs chat templates use (expressions,
filters, methods, tests, if/for/set, whitespace control), rendered by jinja2
as render.py sets it up; writes differential.json for TestDifferential.
Run: /usr/bin/python3 differential.py SEED COUNT (the committed file: 23 4000)"""
import copy, random, json, sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render import compile_template
R = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
VARS = {"x": 3, "y": 2.5, "s": " Hi, 世界 'q' \"d\"\n", "l": [1, "a", None, True, [2, 3]], "d": {"k": "v", "n": 1, "z": None, "lst": [1, 2]},
        "n": None, "e": "", "b": False, "msgs": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}]}
STR = ["'a'", "'Hello World'", "' pad '", "'x,y,,z'", "'中文'", "'it\\'s'", "\"q\\\"q\"", "'a\\nb'", "''", "'%s'"]
def atom(d):
    c = R.randrange(14)
    if c == 0: return str(R.choice([0, 1, -1, 7, 100]))
    if c == 1: return R.choice(["1.5", "0.1", "2.0", "1e3", "3.25"])
    if c == 2: return R.choice(STR)
    if c == 3: return R.choice(["none", "true", "false", "None", "True"])
    if c == 4 and d < 3: return "[" + ", ".join(expr(d+1) for _ in range(R.randrange(3))) + "]"
    if c == 5 and d < 3: return "{" + ", ".join(R.choice(STR) + ": " + expr(d+1) for _ in range(R.randrange(3))) + "}"
    if c == 6: return R.choice(["x", "y", "s", "l", "d", "n", "e", "b", "undef", "msgs"])
    if c == 7: return R.choice(["d.k", "d['n']", "d.z", "d.missing", "l[0]", "l[-1]", "l[4][1]", "l[9]", "msgs[0].content", "msgs[1].content", "msgs[1].tool_calls[0].function.arguments", "s[1:4]", "l[::2]", "s[::-1]"])
    if c == 8 and d < 3: return "(" + expr(d+1) + ")"
    return R.choice(["x", "s", "l", "d", "'abc'", "2"])
FILTERS = ["trim", "upper", "lower", "title", "capitalize", "length", "tojson", "list", "join", "join(', ')", "first", "last", "default('D')", "string", "int", "float", "abs", "round", "round(1)", "replace('a', 'b')", "indent(2)", "items", "sort", "unique", "reverse", "select", "map('upper')", "tojson(indent=2)", "sum", "wordcount", "count", "safe", "escape", "dictsort", "max", "min", "selectattr('role')", "map(attribute='role')", "batch(2)", "e"]
METHODS = ["strip()", "strip('a')", "split()", "split(',')", "startswith('a')", "endswith('d')", "replace('l', 'L')", "upper()", "lower()", "title()", "get('k')", "get('q', 1)", "items()", "keys()", "values()", "lstrip()", "rstrip('\\n')", "count('a')", "find('i')", "splitlines()", "join(['a','b'])", "format(1)"]
TESTS = ["defined", "undefined", "none", "string", "mapping", "iterable", "sequence", "number", "integer", "float", "boolean", "odd", "even", "divisibleby 2", "equalto 3", "in [1, 2, 3]", "true", "false", "lower", "upper"]
def expr(d=0):
    c = R.randrange(12)
    a = atom(d)
    if d >= 3: return a
    if c == 0: return a + " " + R.choice(["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or", "**"]) + " " + expr(d+1)
    if c == 1: return a + " | " + R.choice(FILTERS)
    if c == 2: return a + "." + R.choice(METHODS)
    if c == 3: return a + " is " + R.choice(["", "not "]) + R.choice(TESTS)
    if c == 4: return expr(d+1) + " if " + expr(d+1) + " else " + expr(d+1)
    if c == 5: return "not " + a
    if c == 6: return "-" + a
    if c == 7: return a + " | " + R.choice(FILTERS) + " | " + R.choice(FILTERS)
    return a
WS = ["", "\n", "  ", "\n  ", " \n", "\t"]
def tag(body):
    l = R.choice(["", "-", "", "+"]) if R.random() < 0.5 else ""
    r = R.choice(["", "-", "", "+"]) if R.random() < 0.5 else ""
    if l == "+" and R.random() < 0.5: l = ""
    return "{%" + l + " " + body + " " + r + "%}"
def stmt(d=0):
    c = R.randrange(13)
    w = R.choice(WS)
    if c == 0 or d >= 2: return w + "{{" + R.choice(["", "-"]) + " " + expr() + " " + R.choice(["", "-"]) + "}}" + R.choice(WS)
    if c == 1: return w + tag("if " + expr()) + stmts(d+1) + (tag("else") + stmts(d+1) if R.random() < 0.5 else "") + w + tag("endif") + R.choice(WS)
    if c == 2: return w + tag("for it in " + R.choice(["l", "s", "d", "msgs", "range(3)", "d.items()", "[1, 2]", "undef", "n"])) + "{{ it }}{{ loop.index }}" + stmts(d+1) + w + tag("endfor") + R.choice(WS)
    if c == 3: return w + tag("set v = " + expr()) + "{{ v }}" + R.choice(WS)
    if c == 4: return w + "{# c #}" + R.choice(WS)
    if c == 5: return w + tag("for k, v2 in d.items()") + "{{ k }}={{ v2 }}" + w + tag("endfor")
    if c == 6: return w + "text " + R.choice(["é", "<", "'", ""]) + w
    if c == 7: return w + tag("macro mm(a, b=" + expr(2) + ")") + "[{{ a }}|{{ b }}]" + stmts(d+1) + tag("endmacro") + "{{ mm(" + expr(1) + ") }}{{ mm(" + expr(2) + ", b=" + expr(2) + ") }}" + R.choice(WS)
    if c == 8: return w + tag("set ns = namespace(acc=" + expr(2) + ")") + tag("for it in " + R.choice(["l", "[1, 2, 3]", "d", "s"])) + tag("set ns.acc = ns.acc ~ it") + tag("endfor") + "{{ ns.acc }}" + R.choice(WS)
    if c == 9: return w + tag("filter " + R.choice(["upper", "trim", "title", "indent(2)", "replace('a', 'x')"])) + stmts(d+1) + tag("endfilter") + R.choice(WS)
    if c == 10: return w + tag("set blk") + stmts(d+1) + tag("endset") + "[{{ blk }}]" + R.choice(WS)
    if c == 11: return w + tag("for it in " + R.choice(["l", "range(5)", "s"])) + tag("if loop.index is " + R.choice(["even", "odd"])) + tag(R.choice(["continue", "break"])) + tag("endif") + "{{ it }}{{ loop.revindex }}{{ loop.previtem }}" + tag("endfor") + R.choice(WS)
    return w + "{{ " + expr() + " }}"
def stmts(d):
    return "".join(stmt(d) for _ in range(R.randrange(1, 3)))
out = []
for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 2000):
    src = stmts(0)
    r = {"template": src}
    try:
        r["out"] = compile_template(src).render(**copy.deepcopy(VARS))  # some filters mutate their input (indent on a list)
    except Exception as e:
        r["error"] = "%s: %s" % (type(e).__name__, e)
    if "out" in r and "0x7f" in r["out"]: continue
    if "out" in r and "<generator" in r["out"]: continue
    if "out" in r and "<built-in" in r["out"]: continue
    out.append(r)
json.dump({"vars": VARS, "cases": out}, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "differential.json"), "w"), ensure_ascii=False)
print(len(out), sum(1 for r in out if "error" in r))
