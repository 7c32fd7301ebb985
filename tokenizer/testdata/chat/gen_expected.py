# Renders the fixture templates with Python jinja2, configured as Hugging Face
# transformers' apply_chat_template configures it (trim_blocks, lstrip_blocks,
# loopcontrols, raise_exception, tojson without ASCII escaping, strftime_now),
# and writes expected.json. The Go tests compare RenderChat against it.
# Run: python3 gen_expected.py   (jinja2 3.1.6 produced the committed file)
import json, datetime
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols

def raise_exception(msg):
    raise jinja2.exceptions.TemplateError(msg)

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

DATE = datetime.datetime(2025, 3, 15)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = lambda fmt: DATE.strftime(fmt)

FAMILIES = {
    "qwen2.5": dict(bos_token="", eos_token="<|im_end|>"),
    "qwen3": dict(bos_token="", eos_token="<|im_end|>"),
    "llama3": dict(bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"),
    "llama3.2": dict(bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"),
    "mistral-v0.3": dict(bos_token="<s>", eos_token="</s>"),
    "gemma2": dict(bos_token="<bos>", eos_token="<eos>"),
    "gemma3": dict(bos_token="<bos>", eos_token="<end_of_turn>"),
    "phi3": dict(bos_token="<s>", eos_token="<|endoftext|>"),
}

S = {"role": "system", "content": "You are a helpful assistant. 请用中文回答。"}
U1 = {"role": "user", "content": "什么是诚信？ What is honesty?"}
A1 = {"role": "assistant", "content": "诚信 means being honest and keeping promises."}
U2 = {"role": "user", "content": "  Give one example.  "}
A_THINK = {"role": "assistant", "content": "<think>\nThe user asks about honesty.\n</think>\n\n诚信 means being honest."}

CONVERSATIONS = [
    ("user_only", [U1], True),
    ("user_only_nogen", [U1], False),
    ("system_user", [S, U1], True),
    ("multi_turn", [S, U1, A1, U2], True),
    ("no_system_multi", [U1, A1, U2], True),
    ("ends_with_assistant", [U1, A1], False),
    ("thinking_history", [U1, A_THINK, U2], True),
    ("thinking_last", [U1, A_THINK], False),
    ("bad_order", [A1, U1], True),
]

out = {}
for fam, toks in FAMILIES.items():
    tmpl = env.from_string(open(fam + ".jinja").read())
    cases = []
    for name, msgs, gen in CONVERSATIONS:
        c = {"name": name, "messages": msgs, "add_generation_prompt": gen}
        try:
            c["expected"] = tmpl.render(messages=msgs, add_generation_prompt=gen, **toks)
        except jinja2.exceptions.TemplateError as e:
            c["error"] = str(e)
        cases.append(c)
    out[fam] = {"date": DATE.strftime("%Y-%m-%d"), **toks, "cases": cases}
json.dump(out, open("expected.json", "w"), ensure_ascii=False, indent=1)
