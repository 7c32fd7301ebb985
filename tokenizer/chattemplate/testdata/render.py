#!/usr/bin/python3
"""Renders every template of manifest.json with every conversation of
conversations.json (and the snippets of snippets.py) the way Hugging Face transformers' apply_chat_template does
(an ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loop
controls and the generation tag; its tojson, raise_exception and
strftime_now), and writes expected.json: for each template and conversation
either {"out": text} or {"error": message}.

Run with Debian's python3-jinja2 (3.1.2): /usr/bin/python3 render.py
The clock of strftime_now is fixed at 2025-07-10 12:00 so that the output is
reproducible; the Go test renders with the same time.
"""
import datetime
import json
import os

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = datetime.datetime(2025, 7, 10, 12, 0, 0)


class GenerationTracker(Extension):
    """transformers' AssistantTracker without the mask bookkeeping: the body
    of {% generation %} renders unchanged."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def compile_template(src):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(src)


def main():
    manifest = json.load(open(os.path.join(HERE, "manifest.json")))
    convs = json.load(open(os.path.join(HERE, "conversations.json")))
    tools = json.load(open(os.path.join(HERE, "tools.json")))
    out = {}
    for t in manifest:
        src = open(os.path.join(HERE, "templates", t["file"]), encoding="utf-8").read()
        res = {}
        try:
            tmpl = compile_template(src)
        except Exception as e:  # a template jinja2 cannot parse fails every conversation
            for c in convs:
                res[c["name"]] = {"error": "%s: %s" % (type(e).__name__, e)}
            out[t["file"]] = res
            continue
        special = {k: v for k, v in t.items() if k.endswith("_token") and v is not None}
        for c in convs:
            kwargs = dict(special)
            kwargs.update(c.get("extra", {}))
            try:
                text = tmpl.render(messages=c["messages"], tools=tools[c["tools"]] if "tools" in c else None,
                                   documents=None, add_generation_prompt=c["add_generation_prompt"], **kwargs)
                res[c["name"]] = {"out": text}
            except Exception as e:
                res[c["name"]] = {"error": "%s: %s" % (type(e).__name__, e)}
        out[t["file"]] = res
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")

    # The snippets: small templates for single constructs.
    import snippets
    snips = []
    for name, src, variables in snippets.S:
        res = {"name": name, "template": src, "vars": variables}
        try:
            res["out"] = compile_template(src).render(**variables)
        except Exception as e:
            res["error"] = "%s: %s" % (type(e).__name__, e)
        snips.append(res)
    with open(os.path.join(HERE, "snippets.json"), "w", encoding="utf-8") as f:
        json.dump(snips, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
