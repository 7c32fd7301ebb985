#!/usr/bin/env python3
"""Writes mixed.txt: the generated test lines for the tokenizer reference test.

Any Python 3 (standard library only). The output is fixed by the seed:

    python3 gen_lines.py > mixed.txt

Each output line is one test case, JSON-encoded ({"text": ...}) so that a
case can hold newlines, tabs and carriage returns. The cases mix scripts
(Latin with accents, CJK, Cyrillic, Greek, Arabic, Hebrew, Devanagari,
Hangul, emoji with modifiers and joiners, combining marks), digit runs,
punctuation runs, code and JSON, contractions and white space (single and
runs of spaces, tabs, newlines, CRLF, no-break and ideographic spaces) at
the start, middle and end of a line.
"""
import json
import random
import sys

SEED = 20261204
N = 600

LATIN = ["the", "value", "Honesty", "PATRIOTISM", "harmony", "rule", "of", "law",
         "friendship", "naïve", "café", "Straße", "façade", "œuvre", "Ångström",
         "résumé", "x", "I", "a", "OpenAI", "iPhone", "camelCase", "snake_case",
         "HTTPServer", "don", "We", "they", "ÉCOLE", "Ǆemal", "ﬁne", "Ｆｕｌｌ",
         "\u212Aelvin", "\u2126hm", "µs", "ĳssel"]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'Re", "'x"]
CJK = ["富强", "民主", "文明", "和谐", "自由", "平等", "公正", "法治", "爱国", "敬业",
       "诚信", "友善", "社会主义核心价值观", "中华人民共和国", "你好", "日本語", "ひらがな",
       "カタカナ", "漢字", "한국어", "안녕하세요", "龥", "〇"]
CYRILLIC = ["Привет", "мир", "ценности", "Ёлка", "съезд", "Україна", "ЖЗИ"]
GREEK = ["Ελληνικά", "αβγ", "ΣΊΣΥΦΟΣ", "ώρα", "\u1F7D", "\u1FBE", "\u1FD3"]
ARABIC = ["مرحبا", "العالم", "القيم", "٣٤٥", "ـــ", "سلام"]
HEBREW = ["שלום", "עולם"]
DEVANAGARI = ["नमस्ते", "हिन्दी", "१२३"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧", "🇨🇳", "🇺🇸", "❤️", "🤖", "✨", "🔥🔥", "☕", "🧪"]
COMBINING = ["e\u0301", "a\u0308", "n\u0303", "o\u0302\u0323", "\u0301", "Z\u0335\u0327",
             "\u1100\u1161\u11A8", "i\u0307"]
PUNCT = [".", ",", "!", "?", "...", "!!!", "?!", "--", "---", "—", "–", "…", "«»", "“", "”",
         "‘", "’", "(", ")", "[]", "{}", "<>", "/", "\\", "|", "~", "^", "_", "`", "```",
         "@", "#", "$", "%", "&", "*", "+", "=", "==", "===", "!=", "<=", ">=", "->", "=>",
         "::", ";", ";;", ":", "'", '"', '""', "。", "，", "、", "！", "？", "：", "；", "（", "）",
         "【", "】", "《", "》", "·", "¿", "¡", "§", "©", "®", "™", "°", "±", "×", "÷",
         "€", "£", "¥", "‰", "∑", "√", "∞", "≠", "≤", "→", "⇒", "★", "♥"]
SPACE = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", " \n", "\n ", " \t ", "\u00A0",
         "\u3000", "\u2009", "    ", "\n\n\n", " \r\n\t"]
CODE = [
    'if (x == 0) { return; }',
    'for (int i = 0; i < n; i++) {',
    'def f(a, b=None):\n    return a["k"][0]',
    '{"key": "value", "n": [1, 2, 3], "ok": true}',
    '{"a":{"b":[{"c":null}]}}',
    'foo(bar[baz]);',
    'x => x.map((y) => y * 2);',
    'std::vector<int> v{1,2,3};',
    '#include <stdio.h>',
    'SELECT * FROM t WHERE id=42;',
    '<div class="x">hi</div>',
    '$HOME/.config/app.yaml',
    'a[i][j] += b[j];',
    'fmt.Println("hello, 世界")',
    '}}]]));',
    '"""docstring"""',
    'key: [a, b]  # comment',
    '0x1F; 0b1010; 1e-9; 3.14159',
    '`code` and ``more``',
    '\\n\\t\\"',
    'https://example.com/path?q=1&r=two#frag',
    'user@example.org',
    "it's 'quoted' and \"double\"",
    '[[1,2],[3,4]]',
    '{{ template }}',
    '/* c */ // d',
]


def digits(rng):
    k = rng.choice([1, 2, 3, 4, 5, 7, 10, 13])
    s = "".join(rng.choice("0123456789") for _ in range(k))
    return rng.choice([s, s, s, "1,234", "3.14", "-7", "２０２４", "½", "Ⅻ", "²", s + "%"])


def atom(rng):
    kind = rng.choices(
        ["latin", "contr", "cjk", "cyr", "greek", "arabic", "hebrew", "deva", "emoji",
         "comb", "punct", "digits", "code", "space"],
        weights=[14, 3, 8, 4, 2, 3, 1, 1, 3, 2, 10, 6, 4, 8])[0]
    if kind == "latin":
        return rng.choice(LATIN)
    if kind == "contr":
        return rng.choice(LATIN) + rng.choice(CONTRACTIONS)
    if kind == "cjk":
        return rng.choice(CJK)
    if kind == "cyr":
        return rng.choice(CYRILLIC)
    if kind == "greek":
        return rng.choice(GREEK)
    if kind == "arabic":
        return rng.choice(ARABIC)
    if kind == "hebrew":
        return rng.choice(HEBREW)
    if kind == "deva":
        return rng.choice(DEVANAGARI)
    if kind == "emoji":
        return rng.choice(EMOJI)
    if kind == "comb":
        return rng.choice(COMBINING)
    if kind == "punct":
        return "".join(rng.choice(PUNCT) for _ in range(rng.choice([1, 1, 2, 3, 5])))
    if kind == "digits":
        return digits(rng)
    if kind == "code":
        return rng.choice(CODE)
    return rng.choice(SPACE)


def line(rng):
    n = rng.randint(1, 14)
    out = []
    for _ in range(n):
        out.append(atom(rng))
        # Usually a space between atoms, sometimes none (letters glued to
        # punctuation and digits), sometimes another separator.
        out.append(rng.choices(["", " ", "\t", "\n", "  "], weights=[5, 10, 1, 1, 1])[0])
    s = "".join(out)
    r = rng.random()
    if r < 0.08:
        s = " " + s
    elif r < 0.12:
        s = "  " + s
    elif r < 0.15:
        s = "\n" + s
    elif r < 0.17:
        s = "\t" + s
    if rng.random() < 0.5:
        s = s.rstrip(" \t\n")
    return s or "x"


def main():
    rng = random.Random(SEED)
    seen = set()
    w = sys.stdout
    count = 0
    while count < N:
        s = line(rng)
        if s in seen:
            continue
        seen.add(s)
        w.write(json.dumps({"text": s}, ensure_ascii=False) + "\n")
        count += 1


if __name__ == "__main__":
    main()
