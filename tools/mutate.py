#!/usr/bin/python3
"""mutate.py — mutants nobody chose: generates and grades them (make mutate).

A contributors' tool (Debian's /usr/bin/python3 and python3-clang-14; students
never run it). From the student-written regions of a lab's solution (between
the /* SOLUTION BEGIN */ and /* SOLUTION END */ lines of solutions/LAB/*.c) it
makes one mutant per application of a standard operator:

  stmt-delete     delete a statement
  negate-cond     negate an if, while, do, for or ?: condition
  relational      < <= > >= == != swapped for a neighbour; && <-> ||
  constant        an integer constant +1 / -1
  drop-return     drop a return (an early return falls through)
  drop-release    remove a call whose name has free/close/stop/cancel/release
  soon-direct     a call-soon helper (ap_soon, ap_defer: any helper taking an
                  ap_soon_t * and an ap_soon_cb) replaced by a direct call
  swap-stmts      swap two adjacent statements

Each mutant is one edit of one file, found on libclang's cursors and tokens.
A removed statement keeps (void) references to the names it used, so an
unused parameter or static function does not turn it into a compile error.
Mutants that give the same file text are made once. The order is fixed
(file, offset, operator), and --sample N --seed S picks a reproducible sample;
--ids ID,... grades those mutants only (after writing the test that kills
them). With --hidden 0 only public tests count: a mutant that only hidden
tests kill is reported survived.

Each mutant is laid out (the solution folder and the ones its "uses" file
names, one file mutated) in one of --jobs trees and graded by grader/grade.sh
in debug mode; it did not compile, was killed (a graded test did not pass;
"by public tests" when a non-hidden one did not) or survived. The unmutated
solution is graded first and must pass every test. With FIRST_FAILURE=1 in
the environment (make check's sample), grade.sh stops each grading at the
first test that does not pass: the same verdicts, public tests before hidden
ones, but the tests each mutant fails (the clause table) are cut short.

A mutant's id hashes its file, function, operator, original and new text (and
its rank among equal ones), so it survives line shifts. tests/LAB/mutants/
equivalent.txt lists reviewed survivors, "ID reason" per line (# comments):
they count as equivalent, not survived, and leave the kill rates' base; a
listed id that is no longer generated is reported stale.

Writes OUT/LAB/report.json and report.txt, and survivors/ID.patch (the
project's mutant format, Kills: left for the test's author). Exit 1 when
--min-kill is given and the public kill rate is below it, or with --strict
when a survivor is not listed equivalent; 2 on a usage or setup error.
"""
import argparse
import difflib
import glob
import hashlib
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "/* SOLUTION BEGIN */", "/* SOLUTION END */"
LIBCLANG = ["/usr/lib/llvm-14/lib/libclang.so.1", "/usr/lib/x86_64-linux-gnu/libclang-14.so.1"]
RELEASE = re.compile(r"free|close|stop|cancel|release", re.I)
RELATIONAL = {"<": ["<=", ">="], "<=": ["<", ">"], ">": [">=", "<="], ">=": [">", "<"],
              "==": ["!="], "!=": ["=="], "&&": ["||"], "||": ["&&"]}


def die(msg):
    print("mutate: " + msg, file=sys.stderr)
    sys.exit(2)


def load_clang():
    try:
        import clang.cindex as ci
    except ImportError:
        die("needs python3-clang-14 for /usr/bin/python3 (make deps-dev)")
    lib = next((p for p in LIBCLANG if os.path.exists(p)), None)
    if lib is None:
        die("libclang 14 not found (looked for %s)" % ", ".join(LIBCLANG))
    ci.Config.set_library_file(lib)
    return ci


# ---- Generating -------------------------------------------------------------


def lab_model(function, *args):
    """What grader/labs.sh, the one lab model, answers: function's lines."""
    out = subprocess.run(["bash", "-c", '. grader/labs.sh && "$@"', "labs.sh", function, *args],
                         cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True).stdout
    return out.split()


def lab_dirs(lab):
    """The lab's folder name from NN or NN-slug, and the folders it uses."""
    match = lab_model("labs_named", lab) if lab else []
    if len(match) != 1:
        die("no lab matches %s (labs: %s)" % (lab, " ".join(lab_model("labs_all"))))
    return match[0], lab_model("labs_used_by", match[0], "solutions")


def regions(text):
    """(first, last) line numbers (1-based) of each student-written region."""
    out, start = [], None
    for i, line in enumerate(text.split(b"\n"), 1):
        if line.strip() == BEGIN.encode():
            start = i + 1
        elif line.strip() == END.encode() and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def clang_args(lab, uses):
    pkg = subprocess.run(["pkg-config", "--cflags", "libuv", "check"], capture_output=True,
                         text=True).stdout.split()
    dirs = [os.path.join(ROOT, "solutions", d) for d in [lab] + uses]
    dirs += [os.path.join(ROOT, "helpers"), os.path.join(ROOT, "grader")]
    return ["-std=c11", "-D_POSIX_C_SOURCE=200809L"] + ["-I" + d for d in dirs] + pkg


class FileMutator:
    """Finds the mutants of one solution file."""

    def __init__(self, ci, path, args):
        self.ci, self.K = ci, ci.CursorKind
        self.path = path
        self.src = open(path, "rb").read()
        self.regions = regions(self.src)
        self.tu = ci.Index.create().parse(path, args=args)
        errors = [d for d in self.tu.diagnostics if d.severity >= 3]
        if errors:
            die("%s does not parse: %s" % (path, errors[0]))
        self.toks = [(t.extent.start.offset, t.extent.end.offset, t.spelling)
                     for t in self.tu.get_tokens(extent=self.tu.cursor.extent)
                     if t.location.file and t.location.file.name == path]
        self.edits = []  # (start, end, replacement, op, function)

    # -- positions
    def inside(self, c):
        e = c.extent
        if not e.start.file or e.start.file.name != self.path:
            return False
        return any(a <= e.start.line and e.end.line <= b for a, b in self.regions)

    def tok_at(self, offset):
        return next((t for t in self.toks if t[0] >= offset), None)

    def text(self, start, end):
        return self.src[start:end].decode()

    def stmt_range(self, c):
        """A statement's bytes, with its ';' when the extent leaves it out."""
        s, e = c.extent.start.offset, c.extent.end.offset
        last = self.text(e - 1, e)
        nxt = self.tok_at(e)
        if last != "}" and nxt is not None and nxt[2] == ";" and nxt[0] == e:
            e = nxt[1]
        return s, e

    def add(self, s, e, rep, op, fn):
        if self.text(s, e) != rep:
            self.edits.append((s, e, rep, op, fn))

    # -- keeping names a removed statement used
    def kept_refs(self, c):
        names, s, e = [], c.extent.start.offset, c.extent.end.offset
        for d in c.walk_preorder():
            ref = d.referenced if d.kind == self.K.DECL_REF_EXPR else None
            if ref is None or d.spelling in names or s <= ref.extent.start.offset < e:
                continue  # declared inside the statement: goes with it
            local = ref.kind in (self.K.PARM_DECL, self.K.VAR_DECL) and \
                ref.semantic_parent is not None and ref.semantic_parent.kind == self.K.FUNCTION_DECL
            static = ref.kind == self.K.FUNCTION_DECL and \
                ref.storage_class == self.ci.StorageClass.STATIC
            if local or static:
                names.append(d.spelling)
        return ", ".join("(void) " + n for n in names)

    def remove(self, c, parent, op, fn):
        s, e = self.stmt_range(c)
        keep = self.kept_refs(c)
        if keep:
            rep = keep + ";"
        else:
            rep = "" if parent.kind == self.K.COMPOUND_STMT else "{}"  # ";": -Wempty-body
        self.add(s, e, rep, op, fn)

    # -- walking
    def run(self):
        self.walk(self.tu.cursor, None, None)
        return self.edits

    def walk(self, c, parent, fn):
        if c.kind == self.K.FUNCTION_DECL and c.is_definition():
            fn = c
        if c.extent.start.file and c.extent.start.file.name != self.path:
            return
        if fn is not None and c.kind == self.K.COMPOUND_STMT:
            self.compound(c, fn)  # a function's body holds a region's statements
        elif fn is not None and self.inside(c):
            self.visit(c, parent, fn)
        for child in c.get_children():
            self.walk(child, c, fn)

    def visit(self, c, parent, fn):
        K, name = self.K, fn.spelling
        if c.kind in (K.IF_STMT, K.WHILE_STMT, K.CONDITIONAL_OPERATOR):
            self.negate(list(c.get_children())[0], name)
        elif c.kind == K.DO_STMT:
            self.negate(list(c.get_children())[1], name)
        elif c.kind == K.FOR_STMT:
            self.for_cond(c, name)
        elif c.kind == K.BINARY_OPERATOR:
            self.relational(c, name)
        elif c.kind == K.INTEGER_LITERAL:
            self.constant(c, name)
        elif c.kind == K.RETURN_STMT:
            self.drop_return(c, parent, fn)
        elif c.kind == K.CALL_EXPR:
            self.call(c, parent, name)

    SKIP = ("DECL_STMT", "NULL_STMT", "CASE_STMT", "DEFAULT_STMT", "LABEL_STMT")

    def compound(self, c, fn):
        stmts = [s for s in c.get_children() if self.inside(s) and s.kind.name not in self.SKIP]
        for s in stmts:
            if s.kind != self.K.RETURN_STMT:  # drop-return covers it
                self.remove(s, c, "stmt-delete", fn.spelling)
        kids = list(c.get_children())
        for a, b in zip(kids, kids[1:]):
            if a in stmts and b in stmts:
                self.swap(a, b, fn.spelling)

    ASSIGN = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}

    def writes(self, c):
        """Names a call-free statement assigns; None when it calls or is unclear."""
        if any(d.kind == self.K.CALL_EXPR for d in c.walk_preorder()):
            return None
        s, e = self.stmt_range(c)
        toks = [t[2] for t in self.toks if s <= t[0] < e]
        out = set()
        for i, t in enumerate(toks):
            if t in self.ASSIGN or t in ("++", "--"):
                near = [x for x in toks[max(i - 1, 0):i + 2] if re.fullmatch(r"[A-Za-z_]\w*", x)]
                if t in self.ASSIGN and not re.fullmatch(r"[A-Za-z_]\w*", toks[i - 1]):
                    return None  # an element or a dereference: may alias
                out.update(near[:1] if t in self.ASSIGN else near)
        return out

    def independent(self, a, b):
        """Two call-free statements, neither touching what the other writes:
        swapping them changes nothing, so no mutant is made."""
        wa, wb = self.writes(a), self.writes(b)
        if wa is None or wb is None:
            return False
        ids = lambda c: {t[2] for t in self.toks if self.stmt_range(c)[0] <= t[0] < self.stmt_range(c)[1]}
        return not (wa & ids(b)) and not (wb & ids(a))

    def swap(self, a, b, fn):
        if self.independent(a, b):
            return
        (s1, e1), (s2, e2) = self.stmt_range(a), self.stmt_range(b)
        rep = self.text(s2, e2) + self.text(e1, s2) + self.text(s1, e1)
        self.add(s1, e2, rep, "swap-stmts", fn)

    def negate(self, cond, fn):
        s, e = cond.extent.start.offset, cond.extent.end.offset
        self.add(s, e, "!(" + self.text(s, e) + ")", "negate-cond", fn)

    def for_cond(self, c, fn):
        toks = [t for t in self.toks if c.extent.start.offset <= t[0] < c.extent.end.offset]
        depth, semis = 0, []
        for t in toks:
            depth += (t[2] == "(") - (t[2] == ")")
            if t[2] == ";" and depth == 1:
                semis.append(t)
            if depth == 0 and t[2] == ")":
                break
        if len(semis) >= 2 and semis[0][1] < semis[1][0]:
            s, e = semis[0][1], semis[1][0]
            inner = self.text(s, e).strip()
            if inner:
                s += self.text(s, e).index(inner[0])
                self.add(s, s + len(inner.encode()), "!(" + inner + ")", "negate-cond", fn)

    def relational(self, c, fn):
        kids = list(c.get_children())
        if len(kids) != 2:
            return
        t = self.tok_at(kids[0].extent.end.offset)
        if t is None or t[2] not in RELATIONAL or t[1] > kids[1].extent.start.offset:
            return
        for new in RELATIONAL[t[2]]:
            self.add(t[0], t[1], new, "relational", fn)

    def constant(self, c, fn):
        t = self.tok_at(c.extent.start.offset)
        m = t and t[0] == c.extent.start.offset and \
            re.fullmatch(r"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)", t[2])
        if not m:
            return
        digits, suffix = m.group(1), m.group(2)
        base = 16 if digits[:2] in ("0x", "0X") else 8 if digits.startswith("0") and digits != "0" else 10
        v = int(digits, base)
        fmt = {16: lambda x: "0x%x" % x, 8: lambda x: "0%o" % x, 10: str}[base]
        for new in ([v + 1, v - 1] if v > 0 else [v + 1]):
            self.add(t[0], t[1], fmt(new) + suffix, "constant", fn)

    def drop_return(self, c, parent, fn):
        body = list(fn.get_children())[-1]
        last = list(body.get_children())[-1:] == [c]
        if last and (fn.result_type.kind != self.ci.TypeKind.VOID or list(c.get_children()) == []):
            return  # would not compile, or changes nothing
        self.remove(c, parent, "drop-return", fn.spelling)

    def call(self, c, parent, fn):
        if RELEASE.search(c.spelling):
            self.drop_call(c, parent, fn)
        self.soon_direct(c, fn)

    def drop_call(self, c, parent, fn):
        stmt_parent = parent.kind == self.K.COMPOUND_STMT or (
            parent.kind in (self.K.IF_STMT, self.K.WHILE_STMT, self.K.FOR_STMT) and
            list(parent.get_children())[0] != c)
        if stmt_parent:
            self.remove(c, parent, "drop-release", fn)
        elif parent.kind != self.K.CSTYLE_CAST_EXPR and c.type.kind != self.ci.TypeKind.VOID:
            s, e = c.extent.start.offset, c.extent.end.offset
            keep = self.kept_refs(c)
            self.add(s, e, "(%s0)" % (keep + ", " if keep else ""), "drop-release", fn)

    def soon_direct(self, c, fn):
        ref, args = c.referenced, list(c.get_arguments())
        if ref is None or len(args) != 3:
            return
        params = [a.type.spelling for a in ref.get_arguments()]
        cb = args[2]
        while cb.kind == self.K.UNEXPOSED_EXPR and list(cb.get_children()):
            cb = list(cb.get_children())[0]
        if params[1:] != ["ap_soon_t *", "ap_soon_cb"] or cb.kind != self.K.DECL_REF_EXPR:
            return
        span = [self.text(a.extent.start.offset, a.extent.end.offset) for a in args[:2]]
        rep = "((void) (%s), %s(%s))" % (span[0], cb.spelling, span[1])
        self.add(c.extent.start.offset, c.extent.end.offset, rep, "soon-direct", fn)


def short(s, n=60):
    s = " ".join(s.split())
    return s if len(s) <= n else s[:n - 3] + "..."


def describe(op, orig, rep):
    if op in ("stmt-delete", "drop-return", "drop-release") and rep.startswith(("(void)", ";", "")):
        return "remove `%s`" % short(orig)
    return "`%s` -> `%s`" % (short(orig, 40), short(rep, 40))


def make_mutants(ci, lab, uses):
    """Every mutant of the lab, in a fixed order, equal file texts once."""
    out, seen, ranks = [], set(), {}
    args = clang_args(lab, uses)
    for path in sorted(glob.glob(os.path.join(ROOT, "solutions", lab, "*.c"))):
        if os.path.basename(path) == "demo.c":
            continue
        fm = FileMutator(ci, path, args)
        for s, e, rep, op, fn in sorted(fm.run(), key=lambda x: (x[0], x[1], x[3], x[2])):
            new = fm.src[:s] + rep.encode() + fm.src[e:]
            if new in seen:
                continue
            seen.add(new)
            out.append(mutant_record(lab, path, fm.src, new, s, e, rep, op, fn, ranks))
    return out


def mutant_record(lab, path, src, new, s, e, rep, op, fn, ranks):
    orig = src[s:e].decode()
    rel = os.path.relpath(path, ROOT)
    key = "|".join([rel, fn, op, " ".join(orig.split()), " ".join(rep.split())])
    ranks[key] = ranks.get(key, -1) + 1
    mid = hashlib.sha1(("%s|%d" % (key, ranks[key])).encode()).hexdigest()[:12]
    line = src[:s].count(b"\n") + 1
    end_line = line + rep.count("\n")
    new_lines = new.decode().split("\n")
    return {"id": mid, "file": rel, "line": line, "function": fn, "op": op,
            "desc": describe(op, orig, rep),
            "original": src.decode().split("\n")[line - 1].strip(),
            "mutated": "\n".join(x.strip() for x in new_lines[line - 1:end_line]),
            "patch": make_patch(path, src, new), "text": new}


def make_patch(path, src, new):
    name = os.path.basename(path)
    diff = difflib.unified_diff(src.decode().splitlines(True), new.decode().splitlines(True),
                                "a/" + name, "b/" + name)
    return "".join(diff)


# ---- Grading ----------------------------------------------------------------


def read_equivalents(lab):
    path = os.path.join(ROOT, "tests", lab, "mutants", "equivalent.txt")
    out = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                mid, _, reason = line.partition(" ")
                out[mid] = reason.strip()
    return out


def test_clauses(lab):
    """test -> [clause ids], from tools/clauses.sh --tests (empty if absent)."""
    script = os.path.join(ROOT, "tools", "clauses.sh")
    if not os.path.exists(script):
        return {}
    r = subprocess.run([script, lab, "--tests"], capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines() if r.returncode == 0 else []:
        f = line.split("\t")
        if len(f) >= 2 and f[1].strip():
            out[f[0]] = f[1].split()
    return out


class Trees:
    """One tree per job, laid out like labs/ (the lab's folder and those it
    uses), kept between mutants: each file is rewritten only when its text
    changes, so a mutant recompiles one file, not the lab and its tests."""

    def __init__(self, lab, uses, jobs, work):
        self.lab, self.work = lab, work
        self.files = {}
        for d in [lab] + uses:
            for f in sorted(glob.glob(os.path.join(ROOT, "solutions", d, "*"))):
                if os.path.isfile(f):
                    self.files[os.path.join(d, os.path.basename(f))] = open(f, "rb").read()
        self.free = queue.Queue()
        for k in range(jobs):
            self.free.put(os.path.join(work, "w%d" % k))

    def lay_out(self, tree, m):
        for rel, text in self.files.items():
            if m is not None and rel == os.path.relpath(m["file"], "solutions"):  # None: unmutated
                text = m["text"]
            path = os.path.join(tree, "src", rel)
            if not os.path.exists(path) or open(path, "rb").read() != text:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "wb").write(text)

    def grade(self, m):
        """Grades one mutant: its outcome and the tests it failed."""
        tree, start = self.free.get(), time.monotonic()
        try:
            self.lay_out(tree, m)
            res = os.path.join(tree, "results")
            shutil.rmtree(res, ignore_errors=True)
            env = dict(os.environ, SRC=os.path.join(tree, "src"), LAB=self.lab, MODE="debug",
                       RESULTS=res, STRICT="")
            with open(os.path.join(tree, "table"), "w") as table:
                subprocess.run([os.path.join(ROOT, "grader", "grade.sh")], env=env, stdout=table,
                               stderr=subprocess.STDOUT)
            return dict(classify(self.lab, res), seconds=round(time.monotonic() - start, 1))
        finally:
            self.free.put(tree)

    def remove(self):
        """The trees and their build folders (grade.sh names them after the path)."""
        for k in range(self.free.qsize()):
            src = os.path.abspath(os.path.join(self.work, "w%d" % k, "src"))
            tag = "src-" + hashlib.sha256(src.encode()).hexdigest()[:12]  # as grade.sh names it
            shutil.rmtree(os.path.join(ROOT, "build", "debug", "labs", tag), ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)


def classify(lab, res):
    try:
        results = json.load(open(os.path.join(res, "results.json")))
        tests = results["tests"]
        status = next((l["outcome"] for l in results["labs"] if l["lab"] == lab), "")
    except (OSError, ValueError, KeyError) as e:
        return {"outcome": "error", "detail": "no results: %s" % e}
    if status == "build-failed":
        return {"outcome": "not-compiling", "failed": []}
    failed = [t["test"] for t in tests if t["status"] != "pass"]
    public = [t["test"] for t in tests if t["status"] != "pass" and not t.get("hidden")]
    if status != "ok":  # refused, or the harness died: nothing passed
        failed, public = failed or ["(%s)" % status], public or ["(%s)" % status]
    return {"outcome": "killed" if failed else "survived", "failed": failed, "failed_public": public}


def grade_all(lab, uses, mutants, jobs, work):
    trees, lock, done = Trees(lab, uses, jobs, work), threading.Lock(), [0]
    base = trees.grade(None)
    if base["outcome"] != "survived":
        die("%s: the solution itself does not pass (%s): nothing to measure" % (
            lab, " ".join(base.get("failed", [])) or base.get("detail", "")))

    def one(m):
        m.update(trees.grade(m))
        with lock:
            done[0] += 1
            print("  [%d/%d] %-13s %s:%d %s %s" % (done[0], len(mutants), m["outcome"], m["file"],
                                                   m["line"], m["op"], m["desc"]), file=sys.stderr)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, mutants))
    trees.remove()


# ---- Reporting --------------------------------------------------------------


def summarize(lab, mutants, generated, equivalents, clauses, hidden):
    """Counts, rates, survivors and per-clause kills of the graded mutants."""
    ids = {m["id"] for m in generated}
    for m in mutants:
        if m["outcome"] == "killed" and not hidden and not m["failed_public"]:
            m["outcome"] = "survived"  # HIDDEN=0: hidden tests do not count
        if m["outcome"] == "survived" and m["id"] in equivalents:
            m["outcome"] = "equivalent"
            m["reason"] = equivalents[m["id"]]
    count = {k: sum(m["outcome"] == k for m in mutants)
             for k in ("not-compiling", "killed", "survived", "equivalent", "error")}
    count["killed_public"] = sum(m["outcome"] == "killed" and bool(m["failed_public"]) for m in mutants)
    base = count["killed"] + count["survived"]
    return {
        "lab": lab, "generated": len(generated), "graded": len(mutants), "counts": count,
        "kill_rate_public": round(100.0 * count["killed_public"] / base, 1) if base else None,
        "kill_rate_all": round(100.0 * count["killed"] / base, 1) if base else None,
        "hidden_tests_counted": hidden,
        "survivors": [brief(m) for m in mutants if m["outcome"] == "survived"],
        "hidden_only": [brief(m) for m in mutants if m["outcome"] == "killed" and not m["failed_public"]],
        "equivalent": [dict(brief(m), reason=m["reason"]) for m in mutants if m["outcome"] == "equivalent"],
        "stale": sorted(i for i in equivalents if i not in ids),
        "listed_but_killed": sorted(m["id"] for m in mutants if m["id"] in equivalents and m["outcome"] == "killed"),
        "clauses": clause_kills(mutants, clauses),
        "seconds": round(sum(m.get("seconds", 0) for m in mutants), 1),
        "mutants": [dict(brief(m), outcome=m["outcome"], seconds=m.get("seconds"), failed=m.get("failed", []),
                         failed_public=m.get("failed_public", [])) for m in mutants],
    }


def brief(m):
    return {k: m[k] for k in ("id", "file", "line", "function", "op", "desc", "original", "mutated")}


def clause_kills(mutants, clauses):
    if not clauses:
        return None
    out = {}
    for test, ids in clauses.items():
        for cid in ids:
            out.setdefault(cid, {"tests": [], "killed": 0, "killed_public": 0})["tests"].append(test)
    for cid, c in out.items():
        c["killed"] = sum(m["outcome"] == "killed" and bool(set(c["tests"]) & set(m["failed"])) for m in mutants)
        c["killed_public"] = sum(m["outcome"] == "killed" and bool(set(c["tests"]) & set(m["failed_public"]))
                                 for m in mutants)
    return dict(sorted(out.items()))


def text_report(r):
    c = r["counts"]
    rate = lambda x: "-" if x is None else "%.1f%%" % x
    lines = ["Lab %s: %d mutants generated, %d graded" % (r["lab"], r["generated"], r["graded"]),
             "  not compiling %d, killed %d (by public tests %d), survived %d, equivalent %d%s" % (
                 c["not-compiling"], c["killed"], c["killed_public"], c["survived"], c["equivalent"],
                 ", errors %d" % c["error"] if c["error"] else ""),
             "  kill rate of compiling mutants: %s public tests, %s with hidden tests" % (
                 rate(r["kill_rate_public"]), rate(r["kill_rate_all"]))]
    if r["clauses"]:
        lines.append("  clause      killed (public)  tests")
        lines += ["  %-10s %6d (%d)  %s" % (k, v["killed"], v["killed_public"], " ".join(v["tests"]))
                  for k, v in r["clauses"].items()]
    for title, key in (("Survivors", "survivors"), ("Killed by hidden tests only", "hidden_only")):
        if r[key]:
            lines.append("  %s (id  file:line  operator  mutated line):" % title)
            lines += ["    %s  %s:%d  %s  %s    [%s]" % (
                m["id"], m["file"], m["line"], m["op"], m["mutated"].split("\n")[0] or "(line removed)",
                m["desc"]) for m in r[key]]
    for mid in r["stale"]:
        lines.append("  stale: %s is listed in equivalent.txt but no longer generated" % mid)
    for mid in r["listed_but_killed"]:
        lines.append("  listed: %s is in equivalent.txt but was killed" % mid)
    return "\n".join(lines) + "\n"


def write_report(r, mutants, out):
    os.makedirs(out, exist_ok=True)
    sdir = os.path.join(out, "survivors")
    shutil.rmtree(sdir, ignore_errors=True)
    os.makedirs(sdir)
    for m in mutants:
        if m["outcome"] == "survived":
            with open(os.path.join(sdir, m["id"] + ".patch"), "w") as f:
                f.write("Mutant: %s (%s:%d, %s; generated by tools/mutate.py)\nKills: \n\n%s" % (
                    m["desc"], m["file"], m["line"], m["op"], m["patch"]))
    json.dump(r, open(os.path.join(out, "report.json"), "w"), indent=1)
    text = text_report(r)
    open(os.path.join(out, "report.txt"), "w").write(text)
    return text


# ---- Main -------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("labs", nargs="*", help="NN or NN-slug (none: every lab)")
    ap.add_argument("--list", action="store_true", help="print the mutants, grade nothing")
    ap.add_argument("--sample", type=int, default=0, help="grade N mutants only (seeded)")
    ap.add_argument("--seed", default="0")
    ap.add_argument("--ids", default="", help="grade only these mutants (ids, comma-separated)")
    ap.add_argument("--hidden", type=int, default=1, help="0: only public tests kill")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "mutate"))
    ap.add_argument("--min-kill", type=float, default=None)
    ap.add_argument("--strict", action="store_true", help="fail on a survivor not listed equivalent")
    ap.add_argument("--text", action="store_true", help="rewrite report.txt from report.json only")
    a = ap.parse_args()
    if a.text:
        return rewrite_text(a)
    ci = load_clang()
    labs = a.labs or lab_model("labs_all")
    reports = [one_lab(ci, lab, a) for lab in labs]
    if a.list:
        return 0
    if len(reports) > 1:
        text = summary_table(reports)
        open(os.path.join(a.out, "summary.txt"), "w").write(text)
        sys.stdout.write("\n" + text)
    return max(verdict(r, a) for r in reports)


def rewrite_text(a):
    for path in sorted(glob.glob(os.path.join(a.out, "*", "report.json"))):
        if not a.labs or os.path.basename(os.path.dirname(path)).split("-")[0] in [x[:2] for x in a.labs]:
            text = text_report(json.load(open(path)))
            open(os.path.join(os.path.dirname(path), "report.txt"), "w").write(text)
            sys.stdout.write(text)
    return 0


def one_lab(ci, name, a):
    lab, uses = lab_dirs(name)
    generated = make_mutants(ci, lab, uses)
    mutants = generated
    if a.sample:
        mutants = random.Random(a.seed).sample(generated, min(a.sample, len(generated)))
        mutants.sort(key=generated.index)
    if a.ids:
        mutants = [m for m in mutants if m["id"] in a.ids.split(",")]
    if a.list:
        for m in mutants:
            print("%s  %s:%d  %-12s %s" % (m["id"], m["file"], m["line"], m["op"], m["desc"]))
        return None
    out = os.path.join(a.out, lab)
    print("mutate: %s: grading %d of %d mutants, %d at a time" % (lab, len(mutants), len(generated), a.jobs),
          file=sys.stderr)
    grade_all(lab, uses, mutants, a.jobs, os.path.join(out, "work"))
    r = summarize(lab, mutants, generated, read_equivalents(lab), test_clauses(lab), a.hidden == 1)
    r["sample"] = {"n": a.sample, "seed": a.seed} if a.sample else None
    sys.stdout.write(write_report(r, mutants, out))
    return r


def summary_table(reports):
    rate = lambda x: "-" if x is None else "%.1f%%" % x
    lines = ["%-24s %9s %8s %7s %8s %6s %8s %8s" % ("lab", "generated", "no-build", "killed", "survived",
                                                      "equiv", "public", "+hidden")]
    for r in reports:
        c = r["counts"]
        lines.append("%-24s %9d %8d %7d %8d %6d %8s %8s" % (
            r["lab"], r["graded"], c["not-compiling"], c["killed"], c["survived"], c["equivalent"],
            rate(r["kill_rate_public"]), rate(r["kill_rate_all"])))
    return "\n".join(lines) + "\n"


def verdict(r, a):
    bad = []
    if a.min_kill is not None and (r["kill_rate_public"] or 0) < a.min_kill:
        bad.append("public kill rate %s%% is below %g%%" % (r["kill_rate_public"], a.min_kill))
    if a.strict and r["survivors"]:
        bad.append("%d survivor(s) not listed in tests/%s/mutants/equivalent.txt" % (len(r["survivors"]), r["lab"]))
    if r["counts"]["error"]:
        bad.append("%d mutant(s) could not be graded" % r["counts"]["error"])
    for b in bad:
        print("mutate: %s: %s" % (r["lab"], b), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
