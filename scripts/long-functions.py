#!/usr/bin/env python3
"""Lists C++ functions longer than a limit (default 80 lines) that lack a reason.

A brace-matching scan of every .cpp file under the given paths (files or folders): comments,
string and character literals are blanked out, then each `{` is classified by the text before it
(namespace / class / struct / enum / union scopes, initialisers after `=`, and blocks inside a
function are not functions; a block whose header ends in a parameter list, qualifiers or a
constructor's initialiser list is). A function's length runs from the first line of its
signature to its closing brace. A long function is accepted when the comment right above its
signature holds a line starting `// long:` followed by the reason it stays long.

  scripts/long-functions.py src/selection src/training      # exit 1 and a list if any
  scripts/long-functions.py --max 60 src                     # another limit
  scripts/long-functions.py --self-test                      # checks the scanner itself
"""
import argparse
import os
import re
import sys
import tempfile

SCOPE_WORDS = re.compile(r"\b(namespace|class|struct|enum|union)\b")
CONTROL_WORDS = re.compile(r"\b(if|for|while|switch|catch|do|else|try)\s*(\(|$)")
LONG_REASON = re.compile(r"^\s*//\s*long:\s*\S")


def blank_literals(text):
    """The text with comments, strings and char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
            open_paren = text.find("(", i + 2)
            delim = text[i + 2:open_paren]
            j = text.find(")" + delim + '"', open_paren)
            j = n if j < 0 else j + len(delim) + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c in "\"'":
            # A digit separator (1'000'000) is not a character literal.
            if c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def classify(header):
    """'function', 'scope' or 'block' for the text between the previous ; { } and this {."""
    h = " ".join(header.split())
    if not h:
        return "block"
    if h.count("(") > h.count(")") or re.search(r"\)\s*:\s*\S.*[\w>]$", h):
        return "init"  # braces inside a parameter list or a constructor's initialiser list
    if SCOPE_WORDS.search(h) and "(" not in h.split(SCOPE_WORDS.search(h).group(0))[0]:
        # `struct X {`, `namespace a {`, `class A : public B {` (but not `f(struct x) {`).
        if not re.search(r"\)\s*(const|noexcept|override|final|\s)*$", h):
            return "scope"
    if h.startswith("extern"):
        return "scope"
    if CONTROL_WORDS.match(h) or re.search(r"\b(else|do|try)$", h):
        return "block"
    if re.search(r"(^|[^=!<>])=($|[^=])", h.split("(")[0]) or h.endswith("="):
        return "block"  # an initialiser: `const auto x = ... {`
    if re.search(r"\)\s*(const|noexcept|override|final|mutable|->\s*[\w:<>,\s*&]+|\s)*$", h):
        return "function"
    if re.search(r"\)\s*:\s*\w", h) and re.search(r"[)}]\s*$", h):
        return "function"  # a constructor with an initialiser list
    return "block"


def function_name(header):
    h = " ".join(header.split())
    m = re.search(r"([\w:~<>]+(?:operator\s*\S+)?)\s*\(", h)
    return m.group(1) if m else h[:60]


def scan(path, limit):
    """[(line, name, length)] of functions in `path` longer than `limit` without a reason."""
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read()
    raw_lines = raw.split("\n")
    text = blank_literals(raw)
    # Preprocessor lines are not code the braces belong to.
    text = "\n".join(" " * len(l) if l.lstrip().startswith("#") else l for l in text.split("\n"))
    stack = []  # (kind, start_line) per open brace
    header_start = 0
    found = []
    line = 1
    for i, c in enumerate(text):
        if c == "\n":
            line += 1
            continue
        if c not in "{};":
            continue
        in_function = any(entry[0] == "function" for entry in stack)
        in_header = any(entry[0] == "init" for entry in stack)
        if in_header and not in_function:
            # Braces of a default argument or a member initialiser belong to the header.
            if c == "{":
                stack.append(("init", line))
            elif c == "}":
                stack.pop()
            continue
        if c == "{":
            if in_function:
                stack.append(("block", line))
            else:
                header = text[header_start:i]
                kind = classify(header)
                first = header_start + len(header) - len(header.lstrip())
                start = line - text[first:i].count("\n")  # the signature's first line
                stack.append((kind, start))
                if kind == "function":
                    stack[-1] = ("function", start, function_name(header))
                elif kind == "init":
                    continue  # the header goes on after this brace
        elif c == "}":
            if stack:
                top = stack.pop()
                if top[0] == "function":
                    length = line - top[1] + 1
                    if length > limit and not has_reason(raw_lines, top[1]):
                        found.append((top[1], top[2], length))
        if not any(entry[0] == "function" for entry in stack):
            header_start = i + 1
    return found


def has_reason(lines, first_line):
    """True when the comment block right above line `first_line` (1-based) holds `// long:`."""
    k = first_line - 2
    while k >= 0 and lines[k].lstrip().startswith("//"):
        if LONG_REASON.match(lines[k]):
            return True
        k -= 1
    return False


def cpp_files(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
            continue
        for root, _, files in os.walk(p):
            for name in sorted(files):
                if name.endswith(".cpp"):
                    yield os.path.join(root, name)


def self_test():
    body = "\n".join(f"  x += {i};" for i in range(85))
    cases = {
        "long.cpp": (f"int f(int x) {{\n{body}\n  return x;\n}}\n", ["f"]),
        "reason.cpp": (f"// Doc.\n// long: one table\nint f(int x) {{\n{body}\n  return x;\n}}\n", []),
        "short.cpp": ("namespace a {\nstruct S {\n  int g() const { return 1; }\n};\n}\n", []),
        "lambda.cpp": (f"void h() {{\n  auto l = [&] {{\n{body}\n  }};\n}}\n", ["h"]),
        "ctor.cpp": (f"A::A(int v)\n    : v_(v), w_{{v}} {{\n{body}\n}}\n", ["A::A"]),
        "default.cpp": (f"int q(int a,\n      S s = {{}}) {{\n{body}\n}}\n", ["q"]),
        "strings.cpp": ('const char* s = "{{{";\nint k() { return \'{\'; }\n', []),
        "method.cpp": (f"namespace n {{\nclass C {{\n  void m() const {{\n{body}\n  }}\n}};\n}}\n",
                       ["m"]),
    }
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for name, (source, expected) in cases.items():
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(source)
            got = [n for _, n, _ in scan(path, 80)]
            if got != expected:
                print(f"self-test {name}: expected {expected}, got {got}")
                failures += 1
    print("self-test:", "ok" if failures == 0 else f"{failures} case(s) failed")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--max", type=int, default=80, help="longest function accepted (lines)")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    if not args.paths:
        parser.error("give files or folders to scan")
    found = 0
    for path in cpp_files(args.paths):
        for line, name, length in scan(path, args.max):
            print(f"{path}:{line}: {name} is {length} lines (over {args.max}); split it or say why "
                  f"in a '// long:' comment above it")
            found += 1
    if found:
        print(f"{found} function(s) over {args.max} lines without a reason")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
