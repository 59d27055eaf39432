#!/usr/bin/env python3
"""Checks every error message of the extension against PostgreSQL's error
message style guide (doc/errors.md): the primary message lower case, without
a trailing period and not starting with the name of one of our SQL
functions; "unrecognized"/"invalid" rather than "unknown"/"bad"; DETAIL and
HINT complete sentences (capital or digit first, period last); can't-happen
cases with elog, never ereport(ERRCODE_INTERNAL_ERROR).  The same for the
RAISE statements of the current install script.

    python3 test/tools/check_messages.py      (from the repository root)

Prints each violation as file:line: problem, and exits 1 if there is any.
"""
import glob
import re
import sys

# proper nouns and acronyms a primary message may start with
CAPITALISED = ("BG/NBD", "Gamma-Gamma", "sBG")


def control_version():
    text = open("funnel.control").read()
    return re.search(r"default_version\s*=\s*'([^']+)'", text).group(1)


def sql_function_names(script):
    text = open(script).read()
    names = re.findall(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|AGGREGATE)\s+"
                       r"(?:@extschema@\.)?(\w+)\s*\(", text, re.I)
    return set(names)


def c_literal(expr):
    """The text of adjacent C string literals, macros shown as {NAME}."""
    out = []
    for lit, macro in re.findall(r'"((?:[^"\\]|\\.)*)"|([A-Z_][A-Z0-9_]+)', expr):
        out.append(lit if lit or not macro else "{%s}" % macro)
    return "".join(out)


def call_args(text, start):
    """The argument text of the call whose '(' is at start."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return text[start + 1:]


def first_literal_arg(args):
    """The first argument of a call: up to the first top-level comma."""
    depth = 0
    i = 0
    while i < len(args):
        c = args[i]
        if c == '"':
            i += 1
            while args[i] != '"':
                i += 2 if args[i] == "\\" else 1
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "," and depth == 0:
            return args[:i]
        i += 1
    return args


def check_primary(msg, names, where, problems):
    if not msg:
        return
    if msg[0].isupper() and not msg.startswith(CAPITALISED):
        problems.append("%s: primary message starts with a capital: %s" % (where, msg))
    if msg.rstrip().endswith("."):
        problems.append("%s: primary message ends with a period: %s" % (where, msg))
    # a function's name as the subject or a prefix ("ltv: ...", "sbg_fit
    # needs ..."); as a noun ("attribution model ...") it is the domain's word
    lead = re.match(r"(\w+)(:|\s+(takes|needs|requires|called|must|is|has|cannot|width)\b)", msg)
    if lead and lead.group(1) in names:
        problems.append("%s: primary message starts with the function name %s: %s"
                        % (where, lead.group(1), msg))
    if msg.startswith("%s: "):
        problems.append("%s: primary message starts with a name passed in: %s" % (where, msg))
    # corrupt serialised states have their own messages (left to the state helpers)
    if re.search(r"\b(unknown|bad)\b", msg, re.I) and not re.match(r"invalid .*state", msg):
        problems.append("%s: say \"unrecognized\" or \"invalid\": %s" % (where, msg))


def check_sentence(kind, msg, where, problems):
    if not msg or msg.startswith("%s"):
        return
    msg = re.sub(r"^%[a-z]+", "0", msg)     # a number first: "%d steps were given."
    if not (msg[0].isupper() or msg[0].isdigit() or msg[0] in "'\"" or msg.startswith("t is ")):
        problems.append("%s: %s is not a sentence (capital first): %s" % (where, kind, msg))
    if not msg.rstrip().endswith("."):
        problems.append("%s: %s does not end with a period: %s" % (where, kind, msg))


def main():
    version = control_version()
    script = "funnel--%s.sql" % version
    names = sql_function_names(script)
    problems = []
    for path in sorted(glob.glob("src/*/*.c")):
        text = open(path).read()
        for m in re.finditer(r"\b(errmsg|errdetail|errhint|errdetail_plural|elog)\s*\(", text):
            line = text.count("\n", 0, m.start()) + 1
            where = "%s:%d" % (path, line)
            args = call_args(text, m.end() - 1)
            if m.group(1) == "elog":
                level, _, rest = args.partition(",")
                msg = c_literal(first_literal_arg(rest.strip()))
                # internal messages may name C routines, as PostgreSQL's do
                check_primary(msg, set(), where, problems)
                continue
            msg = c_literal(first_literal_arg(args))
            if m.group(1) == "errmsg":
                check_primary(msg, names, where, problems)
            else:
                check_sentence(m.group(1), msg, where, problems)
        for m in re.finditer(r"ERRCODE_INTERNAL_ERROR", text):
            line = text.count("\n", 0, m.start()) + 1
            problems.append("%s:%d: use elog(ERROR, ...) for a can't-happen case" % (path, line))
    text = open(script).read()
    for m in re.finditer(r"RAISE\s+(?:EXCEPTION|NOTICE|WARNING)\s+'((?:[^']|'')*)'", text):
        line = text.count("\n", 0, m.start()) + 1
        check_primary(m.group(1), names, "%s:%d" % (script, line), problems)
    for m in re.finditer(r"\b(DETAIL|HINT)\s*=\s*'((?:[^']|'')*)'", text):
        line = text.count("\n", 0, m.start()) + 1
        check_sentence(m.group(1), m.group(2), "%s:%d" % (script, line), problems)
    for p in problems:
        print(p)
    print("%d problems" % len(problems), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
