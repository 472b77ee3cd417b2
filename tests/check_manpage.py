#!/usr/bin/env python3
"""check_manpage.py TINYCHAR MANPAGE - the man page and --help agree.

Every command that `tinychar --help` lists has a `.SS "tinychar CMD ..."`
section in the man page and vice versa; in each section, the flags
documented by .TP entries (with their value names, e.g. "--lr RATE") are
exactly those `tinychar CMD --help` prints, apart from --help and --version,
which the COMMON OPTIONS section documents once and every command must list.
With groff installed, the page must also format without warnings.
Prints each difference and exits 1 if there is any."""
import re
import shlex
import shutil
import subprocess
import sys

COMMON = {"--help", "--version"}


def run(args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit("check_manpage: %s exited %d: %s" % (" ".join(args), p.returncode,
                                                      p.stderr.strip()))
    return p.stdout


def help_commands(binary):
    """Command names from the 'commands:' list of tinychar --help."""
    cmds, inside = [], False
    for line in run([binary, "--help"]).splitlines():
        if line.strip() == "commands:":
            inside = True
        elif inside and not line.strip():
            break
        elif inside:
            m = re.match(r"^  ([a-z][a-z-]*)\b", line)
            if m:
                cmds.append(m.group(1))
    return cmds


def help_flags(binary, cmd):
    """{"--flag": "META" or ""} from the option lines of tinychar CMD --help."""
    flags = {}
    for line in run([binary, cmd, "--help"]).splitlines():
        m = re.match(r"^  (--[a-z][a-z0-9-]*)(?: ([A-Z][A-Z_]*))?(?:\s{2,}|$)", line)
        if m:
            flags[m.group(1)] = m.group(2) or ""
    return flags


def roff_text(s):
    s = re.sub(r"\\f[BIRP]", "", s)
    return s.replace("\\-", "-").replace("\\(em", "-")


def man_sections(path):
    """{section title: {"--flag": "META"}} for each .SH/.SS section, taken
    from the tag line after each .TP."""
    sections, title, lines = {}, None, open(path, encoding="utf-8").read().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".SH ") or line.startswith(".SS "):
            title = roff_text(" ".join(shlex.split(line[4:])))
            sections.setdefault(title, {})
        elif line.strip() == ".TP" and title and i + 1 < len(lines):
            tag = lines[i + 1]
            if tag.startswith("."):
                macro, _, rest = tag.partition(" ")
                words = shlex.split(rest)
                # .BI/.IR/...: the words are set alternately with no space.
                text = roff_text("".join(words) if len(macro) == 3 else " ".join(words))
            else:
                text = roff_text(tag)
            m = re.match(r"^(--[a-z][a-z0-9-]*)(?: ([A-Z][A-Z_]*))?$", text.strip())
            if m:
                sections[title][m.group(1)] = m.group(2) or ""
    return sections


def main():
    binary, page = sys.argv[1], sys.argv[2]
    problems = []
    sections = man_sections(page)
    man_cmds = {}
    for title, flags in sections.items():
        m = re.match(r"^tinychar ([a-z][a-z-]*)\b", title)
        if m:
            man_cmds[m.group(1)] = flags
    cmds = help_commands(binary)
    if not cmds:
        problems.append("no commands found in 'tinychar --help'")
    for c in cmds:
        if c not in man_cmds:
            problems.append("command %s: in --help, no .SS section in the man page" % c)
    for c in man_cmds:
        if c not in cmds:
            problems.append("command %s: in the man page, not in 'tinychar --help'" % c)
    common = sections.get("COMMON OPTIONS", {})
    for f in sorted(COMMON - set(common)):
        problems.append("COMMON OPTIONS lacks %s" % f)
    for c in cmds:
        want = help_flags(binary, c)
        if not want:
            problems.append("%s --help lists no options" % c)
        for f in sorted(COMMON - set(want)):
            problems.append("%s --help lacks %s" % (c, f))
        have = man_cmds.get(c, {})
        for f, meta in sorted(want.items()):
            if f in COMMON:
                continue
            if f not in have:
                problems.append("%s %s: in --help, not in the man page" % (c, f))
            elif have[f] != meta:
                problems.append("%s %s: value named %r in --help, %r in the man page"
                                % (c, f, meta, have[f]))
        for f in sorted(set(have) - set(want)):
            problems.append("%s %s: in the man page, not in --help" % (c, f))
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-ww", "-z", page], capture_output=True,
                           text=True)
        if p.returncode != 0 or p.stderr.strip():
            problems.append("groff warns: %s" % p.stderr.strip()[:300])
    for p in problems:
        print("check_manpage: " + p, file=sys.stderr)
    n_flags = sum(len(v) for v in man_cmds.values())
    if not problems:
        print("check_manpage: %d commands, %d flags agree" % (len(cmds), n_flags))
    sys.exit(1 if problems else 0)


main()
