"""Regenerates the packaging oracle tables in this folder.

The tables hold inputs (many from pypa/packaging's own test suite and from
PEP 440's text) together with what packaging computes for them, so the Go
tests check this package against the reference implementation without
needing Python. Run with packaging 26.4 installed:

    python3 gen.py
"""

import itertools
import json

import packaging
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

assert packaging.__version__ == "26.4", packaging.__version__

# Valid versions in ascending order, with the equal ones in the same group.
ORDERED = [
    ["0.dev0"], ["0a0"], ["0", "0.0", "0.0.0", "0!0"], ["0+local"], ["0.post0"],
    ["0.1"], ["0.9"], ["0.9+local"], ["0.9.post0"],
    ["1.dev0", "1.0.dev0", "1.0.0.dev0"], ["1.0.dev456"], ["1.0.dev456+local"],
    ["1.0a0"], ["1.0a0.post0.dev0"], ["1.0a0.post0"], ["1.0a1.dev1"], ["1.0a1.dev1+local"],
    ["1.0a1", "1.0alpha1", "1.0.a1", "1.0-a1", "1.0A1"], ["1.0a1+local"], ["1.0a1.post0"],
    ["1.0a2.dev456"], ["1.0a2"], ["1.0a12.dev456"], ["1.0a12"],
    ["1.0b0"], ["1.0b1.dev456"], ["1.0b2"], ["1.0b2.post345.dev456"], ["1.0b2.post345"],
    ["1.0b2-346", "1.0b2.post346"], ["1.0rc0"], ["1.0rc1.dev1"], ["1.0rc1.dev456"],
    ["1.0c1", "1.0rc1", "1.0pre1", "1.0preview1"], ["1.0rc2"],
    ["1", "1.0", "1.0.0", "v1.0", "0!1.0", "00!1.0", "1.00"],
    ["1.0+a.b", "1.0+a-b", "1.0+a_b"], ["1.0+abc", "1.0+ABC"], ["1.0+abc.5"], ["1.0+abc.7"],
    ["1.0+0"], ["1.0+00.a"], ["1.0+0.0"], ["1.0+5"],
    ["1.0.post0.dev0"], ["1.0.post0", "1.0-0", "1.0post", "1.0-r", "1.0rev0"], ["1.0.post1"],
    ["1.0.post456.dev34"], ["1.0.post456"], ["1.0.post456+local"],
    ["1.0.0.1"], ["1.0.1.dev1"], ["1.0.1a1"], ["1.0.1"], ["1.0.1+local"], ["1.0.1.post1"], ["1.0.15"],
    ["1.1.dev1"], ["1.1"], ["1.2+a"], ["1.2+abc"], ["1.2+abcdef"], ["1.2+def"], ["1.2+0"], ["1.2+1"],
    ["1.2+1.abc"], ["1.2+1.1"], ["1.2+1.1.0"], ["1.2+2"], ["1.2+123"], ["1.2+123456"],
    ["1.2.r32+123456"], ["1.2.rev33+123456"], ["1.9999999"],
    ["2.0.dev1"], ["2.0a1"], ["2.0"], ["2.0.post1"], ["2.1"], ["3.9"], ["3.10.0a5"], ["3.10"],
    ["3.10.18"], ["3.11.1+local"], ["3.12"], ["3.12.11"], ["3.14.0"], ["10.0"], ["2012.10"],
    ["18446744073709551615"], ["18446744073709551616"], ["100000000000000000000000000000.0"],
    ["1!0.1"], ["1!1.0.dev0"], ["1!1.0a1"], ["1!1.0"], ["1!1.0+local"], ["1!1.0.post1"], ["1!2.0"],
    ["2!0.5"], ["18446744073709551616!1.0"],
]

VALID = [
    "1.0dev", "1.0.dev", "1.0-dev1", "1.0DEV", "1.0.DEV1", "1.0a", "1.0.alpha", "1.0-ALPHA1",
    "1.0b", "1.0.beta", "1.0-BETA1", "1.0c", "1.0.rc", "1.0-RC1", "1.0post", "1.0.POST1",
    "1.0r", "1.0rev", "1.0.r1", "1.0-rev5", "1.0-5", "1.0+AbC", "1.01", "1.0a05", "1.0b07",
    "1.0c056", "1.0rc09", "1.0.post000", "1.1.dev09000", "00!1.2", "0100!0.0", "v1.0",
    "   v1.0\t\n", "\u202f1.0\t\u2029\n ", "\x1c1.0\x1f", "1.0a.", "1.0.dev.", "1.0a-",
    "1.0a.post1", "1.0-r", "1.0post-", "1.0a-1", "1.0rc-dev", "v1", "V1.0", "1.0-1-dev",
    "1.0.post-1", "1.0-1.dev1", "1.0a1-1", "1.0.post1-dev1", "1.0post01", "1.0-pre",
    "1.0-preview2", "1.0.c", "1.0.r.1", "1.0a_1_dev_2", "1.0+abc_def-1", "1.0+0Ab.0012",
    "1.0A1.POST2.DEV3+LoCaL", "1!2.0.post1.dev3+local.7", "2012.10", "1.0.0-alpha.1",
]

INVALID = [
    "", " ", "french toast", "1.0+a+", "1.0++", "1.0+_foobar", "1.0+foo&asd", "1.0+1+1",
    "1. 0", "1 .0", "1. 0a1", "1 .0a1", "1.0 a1", "1.0a 1", "\u0660\u0661\u0662.\u0663",
    ".", "..", "1..0", "1.0.", ".1.0", "1..2.3", "1.0+\u0130", "1.0-", "1!", "!1", "1.0+",
    "1.0+a..b", "1.0_1", "1.0+abc.-1", "1.0.post.post", "foo", "1.0-1-1", "1.0a1a2",
    "1.0.dev1.dev2", "1.0.post1.post2", "1.0dev1a1", "v", "vv1", "1.0.x", "1.0-beta-1-dev-2-3",
    "1!2!3", "1.0+ab\u00e9", "1.*", "1.0;", "\u00a0", "1.0\x00",
]


def normalized(s):
    try:
        v = Version(s)
    except InvalidVersion:
        return None
    return [str(v), v.is_prerelease, v.is_postrelease, v.is_devrelease, v.local]


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def gen_versions():
    rows = []
    seen = set()
    for s in [v for group in ORDERED for v in group] + VALID + INVALID:
        if s in seen:
            continue
        seen.add(s)
        rows.append([s, normalized(s)])
    write_jsonl("versions.jsonl", rows)

    # Check the hand-written order against packaging, then store it.
    for (i, group) in enumerate(ORDERED):
        for v in group:
            assert Version(v) == Version(group[0]), (v, group[0])
        if i:
            assert Version(ORDERED[i - 1][0]) < Version(group[0]), (ORDERED[i - 1][0], group[0])
    write_jsonl("order.jsonl", ORDERED)


SPECIFIERS = [
    # pypa/packaging's SPECIFIERS and the specifiers of its contains tables.
    "~=2.0", "==2.1.*", "==2.1.0.3", "!=2.2.*", "!=2.2.0.5", "<=5", ">=7.9a1", "<1.0.dev1",
    ">2.0.post1", "==2", "==2.0", "==2.0.0", "==2+deadbeef", "==2.0+deadbeef",
    "==2.0.0+deadbeef", "==2.0.0+deadbeef.00", "==2.*", "==2.0.*", "==2.0.0.*", "==0!2.*",
    "!=2", "!=2.0", "!=2.0.0", "!=2.0+deadbeef", "!=3.*", "!=2.0.0.*", ">=2", ">=2.0",
    ">=2.0.0", ">=3.0.0a7", "<=2", "<=2.0", "<=2.0.0", "<=3.0.0a8", ">2", ">2.0", ">3.0.0a7",
    "<2", "<2.1", "<3.0.0a8", "~=1.0", "~=1.0a1", "~=2022.01.01", "~=2!1.0", "==2!1.*",
    "==2!1.0", "!=1.0", "==2!1.0.0.0.*", "==2!1.0.*", "!=2!1.0", "<=2!0.1", ">=2.0", "<2!0.1",
    ">2.0dev", ">1.0.dev1", ">4.1.0a2.dev1234", ">1.0a1", ">1.0b1", ">1.0rc1", ">1.0.post1",
    ">1.0a1.dev1", ">1.0.post1.dev1", "~=1.0.0", "==1.0", "==1.0.0", "==1.*", "==1.0.*",
    "==1!2.*", "==1.0+local", "==1.0+LOCAL", "!=1.0+local", ">=1.0", "<=1.0", "<1.0", ">1.0",
    "<1.0.post1", "<1.0.post0", "<1.0.post10", "<1.0.post2", ">1.0.dev0", ">1.0b2",
    "~=1.4.2", "~=1.4.5", "~=2.2", "~=2.2.post3", "~=1.4.5.0", "~=2.2.0", "~=1!2.2",
    "~=1.0.dev1", "~=1.0.post1", "~=0.9", "===1.0", "===1.0.0", "===1.0+downstream1",
    "===foobar", "===lolwat", "===v1.0", "===1.0A1", "==v1.0", "== 1.0", ">= 1.0 , < 2",
    ">=1.0,<2", ">=1.0,<2,!=1.5", "<2.0", "<2.0a2", "<2.0.post1", ">=1.0, !=1.3.*, <2",
    "==1.0.*,!=1.0.1", "==2.0.*", "!=1.*", "==3.*", "<3.13", ">=3.9", ">=3.10", "<3.11",
    "==3.12.*", "!=3.12.*", ">3.12", ">=3.12.11", "<=3.12.11", "==3.12.11", ">3.12.11",
    "~=3.12", "~=3.12.0", "<3.12.11", "==18446744073709551616.*", ">=18446744073709551615",
    "==1.0,==1.0.0", "==1.0,!=1.0", ">1.0,<1.0.post1", ">=1.0,",
]

INVALID_SPECIFIERS = [
    "2.0", "=>2.0", "==", "~=1.0+5", ">=1.0+deadbeef", "<=1.0+abc123", ">1.0+watwat",
    "<1.0+1.0", "~=1.0.*", ">=1.0.*", "<=1.0.*", ">1.0.*", "<1.0.*", "==1.0.*+5",
    "!=1.0.*+deadbeef", "==2.0a1.*", "!=2.0a1.*", "==2.0.post1.*", "!=2.0.post1.*",
    "==2.0.dev1.*", "!=2.0.dev1.*", "==1.0+5.*", "!=1.0+deadbeef.*", "==1.0.*.5", "~=1",
    "==1.0.dev1.*", "!=1.0.dev1.*", "==1.2+\u0130", "==1.2+\u0130\u0131\u017fK", "1.0", ">=",
    ">=1.*", "==1.0+loc.*", ">1.0+local", "== 1.0 2", "===", "===  a b", "===a)", "===a;",
    "==1.0a1.*", "~=1!1", "==1.*.*", "~=1.0+x", "<>1.0", "=1.0", "==1.0,x", ",", ">=1.0,,<2",
    ",>=1.0", "==1.0 .*", "== 1. 0", "<==1.0", "!==1.0", "~==1.0", ">==1.0",
]

ARBITRARY_ITEMS = ["foobar", "FOOBAR", "lolwat", "LoLWaT", "1.0 ", " 1.0", "v1.0", "1.0A1",
                   "not a valid version", "1.0+downstream1"]


def contains(spec, item):
    return SpecifierSet(spec).contains(item)


def gen_specifiers():
    versions = []
    seen = set()
    for s in [v for group in ORDERED for v in group] + VALID + ARBITRARY_ITEMS:
        if s not in seen and "\x1c" not in s and "\u202f" not in s:
            seen.add(s)
            versions.append(s)
    for s in SPECIFIERS:
        SpecifierSet(s)  # all valid
    for s in INVALID_SPECIFIERS:
        try:
            SpecifierSet(s)
            # packaging skips empty items; PEP 508 (and this package) does not.
            assert ",," in s or s.startswith(",") or s == ",", s
        except InvalidSpecifier:
            pass
    rows = [versions]
    for s in SPECIFIERS:
        rows.append([s, "".join("1" if contains(s, v) else "0" for v in versions)])
    write_jsonl("contains.jsonl", rows)
    write_jsonl("invalid_specifiers.jsonl", [[s] for s in INVALID_SPECIFIERS])

    # One clause built from an operator and a version, as markers do.
    ops = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"]
    texts = ["3.12", "=3.12", "==3.12", " 3.12", "3.12 ", "3.1*", "3.*", "3.12+local", "3",
             "", "a,b", ">=3.8, <4", "=", "3.12;", "v3.12", "=  3.12", "= 3.12"]
    rows = []
    for op, text in itertools.product(ops, texts):
        try:
            Specifier(op + text)
            ok = True
        except InvalidSpecifier:
            ok = False
        rows.append([op, text, ok])
    write_jsonl("clauses.jsonl", rows)


def main():
    gen_versions()
    gen_specifiers()


if __name__ == "__main__":
    main()
