"""Regenerates the packaging oracle tables in this folder.

The tables hold marker and requirement strings (many from pypa/packaging's
test suite, PEP 508's text and real lock files) with what packaging computes
for them, so the Go tests check this package against the reference
implementation without needing Python. Run with packaging 26.4 installed:

    python3 gen.py
"""

import itertools
import json
import random

import packaging
from packaging.markers import InvalidMarker, Marker, UndefinedComparison
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

assert packaging.__version__ == "26.4", packaging.__version__

RUNTIMES = {
    "python3.9": "3.9.23", "python3.10": "3.10.18", "python3.11": "3.11.13",
    "python3.12": "3.12.11", "python3.13": "3.13.7", "python3.14": "3.14.0",
}


def lambda_env(runtime, arch):
    full = RUNTIMES[runtime]
    return {
        "python_version": runtime[len("python"):], "python_full_version": full,
        "implementation_version": full, "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_machine": "aarch64" if arch == "arm64" else "x86_64",
        "platform_system": "Linux", "sys_platform": "linux", "os_name": "posix",
        "platform_release": "", "platform_version": "",
    }


# [name, values, extras, dependency groups]
ENVS = [[f"{rt}/{arch}", lambda_env(rt, arch), [], []]
        for rt in RUNTIMES for arch in ["x86_64", "arm64"]]
ENVS += [
    ["python3.12/x86_64 with extras", lambda_env("python3.12", "x86_64"), ["security", "Foo_Bar"], ["dev", "Test.Suite"]],
    ["pypy", dict(lambda_env("python3.10", "x86_64"), implementation_name="pypy",
                  platform_python_implementation="PyPy", implementation_version="7.3.17"), [], []],
    ["windows", dict(lambda_env("python3.11", "x86_64"), os_name="nt", sys_platform="win32",
                     platform_system="Windows", platform_machine="AMD64", platform_release="10",
                     platform_version="10.0.19045"), ["dog"], []],
    ["macos", dict(lambda_env("python3.13", "arm64"), sys_platform="darwin", platform_system="Darwin",
                   platform_machine="arm64", platform_release="23.6.0",
                   platform_version="Darwin Kernel Version 23.6.0"), [], []],
    ["untagged build", dict(lambda_env("python3.11", "x86_64"), python_full_version="3.11.1+"), [], []],
    ["release candidate", dict(lambda_env("python3.13", "x86_64"), python_full_version="3.13.0rc1",
                              implementation_version="3.13.0rc1", platform_release="5.10.0-1057-aws"), [], []],
    ["odd values", dict(lambda_env("python3.12", "x86_64"), python_version="=3.12", platform_release="5.10",
                        platform_machine="1.0", os_name="dog"), [], []],
]

VARIABLES = [
    "extra", "implementation_name", "implementation_version", "os_name", "platform_machine",
    "platform_release", "platform_system", "platform_version", "python_full_version",
    "python_version", "platform_python_implementation", "sys_platform",
]
LEGACY_VARIABLES = ["os.name", "sys.platform", "platform.version", "platform.machine",
                    "platform.python_implementation", "python_implementation"]
OPERATORS = ["===", "==", ">=", "<=", "!=", "~=", ">", "<", "in", "not in"]
VALUES = ["1.0", "dog", "things @#4 dsfd (((", "3.12", "3.12.11", "3.12.*", "aarch64", "", "=3.12", "Foo_Bar"]

REAL = [
    # Markers as uv, poetry and pip write them in lock and requirements files.
    "sys_platform == 'win32'", "sys_platform != 'win32'", "sys_platform == 'darwin'",
    "sys_platform == 'linux'", "sys_platform == 'cygwin'", "os_name == 'nt'", "os_name != 'nt'",
    "platform_system == 'Windows'", "platform_system != 'Windows'", "platform_system == 'Darwin'",
    "platform_machine == 'x86_64'", "platform_machine == 'aarch64'", "platform_machine == 'arm64'",
    "platform_machine == 'AMD64'", "platform_machine != 'aarch64'",
    "platform_machine == 'aarch64' and python_version >= '3.10'",
    "platform_machine == 'x86_64' or platform_machine == 'aarch64'",
    "python_full_version < '3.11'", "python_full_version >= '3.11'", "python_full_version < '3.12.4'",
    "python_full_version >= '3.9.2' and python_full_version < '3.10'",
    "python_full_version == '3.12.11'", "python_full_version != '3.13.*'",
    "python_version < '3.10'", "python_version >= '3.9'", "python_version <= '3.11'", "python_version > '3.12'",
    "python_version == '3.9'", "python_version == '3.1'", "python_version ~= '3.10'", "python_version === '3.12'",
    "python_version == '3.*'", "python_version != '3.10.*'", "python_version in '3.9 3.10'",
    "python_version not in '3.10, 3.11'", "'3.1' in python_version", "'3.10' < python_version",
    "'3.10' >= python_version", "implementation_name == 'pypy'", "implementation_name == 'cpython'",
    "implementation_name != 'cpython'", "platform_python_implementation == 'CPython'",
    "platform_python_implementation != 'PyPy'", "platform_python_implementation == 'PyPy'",
    "implementation_version >= '3.12'", "platform_release >= '5.10'", "platform_release == ''",
    "platform_version == ''", "platform_version != ''",
    "extra == 'security'", "extra == 'Foo.Bar'", "extra != 'security'", "extra == 'dog'", "extra == ''",
    "extra != ''", "extra < 'z'", "extra <= ''", "extra in 'security'", "'security' == extra",
    "python_version >= '3.8' and extra == 'socks'", "extra == 'security' or extra == 'tests'",
    "'security' in extras", "'Foo-Bar' in extras", "'foo.bar' not in extras", "'dev' in dependency_groups",
    "'test-suite' in dependency_groups", "'docs' not in dependency_groups",
    "'dev' in dependency_groups and 'security' in extras",
    "(platform_machine == 'aarch64' and sys_platform == 'linux') or sys_platform == 'darwin'",
    "python_full_version >= '3.10' and python_full_version < '3.13' and platform_machine == 'x86_64'",
    "python_version < '3.11' and (sys_platform == 'linux' or sys_platform == 'darwin')",
    "(python_version < '3.11' and sys_platform == 'linux') or sys_platform == 'darwin'",
    "python_version < '3.11' and sys_platform == 'linux' or sys_platform == 'darwin'",
    "sys_platform == 'darwin' or python_version < '3.11' and sys_platform == 'linux'",
    "((python_version >= '3.9'))", "(((python_version >= '3.9')) and (os_name == 'posix'))",
    "python_version >= '3.9' and (os_name == 'posix' and (sys_platform == 'linux' or (sys_platform == 'win32')))",
    "os_name=='posix'and python_version>='3.9'", "os_name=='posix'or(sys_platform=='linux')",
    "os_name\t==\t'posix'", "  python_version  >=  '3.9'  ", 'python_version >= "3.9"',
    "python_version<'2.7' and platform_version=='2'", "os.name == 'posix'", "sys.platform == 'linux'",
    "platform.machine == 'aarch64'", "python_implementation == 'CPython'",
    "os_name == \"it's\"", "os_name == '\"quoted\"'", "platform_version in 'Darwin Kernel'",
    "python_full_version < '3.11.1+local'", "'3.11.1+local' < python_full_version",
    "python_full_version == '3.11.1+local'", "python_full_version == '3.11.1'",
    "python_version < '3.10' or python_version >= '3.14'", "python_version > '3.12' and python_version < '3.14'",
    # Not valid in packaging either.
    "this_isnt_a_real_variable >= '1.0'", "python_version", "(python_version)",
    "python_version >= 1.0 and (python_version)", '(python_version == "2.7" and os_name == "linux"',
    '(python_version == "2.7") with random text', "os_name == 'a\nb'", "python_version >= '3.9' and",
    "python_version >= '3.9' or", "and python_version >= '3.9'", "()", "python_version >= '3.9')",
    "os_name notin 'x'", "os_name not 'x'", "'3.6'inpython_version", "os_name ~ 'x'", "os_name = 'x'",
    "os_name == 'x", "platform.release == 'x'", "os_name =='x' os_name=='y'", "", "   ", "os_name in",
    "python_version >= '3.9' and and os_name == 'x'", "(" * 201 + "os_name == 'x'" + ")" * 201,
]
REAL.append("(" * 200 + "os_name == 'posix'" + ")" * 200)


def env_for_packaging(env):
    name, values, extras, groups = env
    d = dict(values)
    d["extra"] = frozenset(extras)
    d["extras"] = frozenset(extras)
    d["dependency_groups"] = frozenset(groups)
    return d


def evaluate(marker, env):
    try:
        return "1" if marker.evaluate(env_for_packaging(env), context="lock_file") else "0"
    except UndefinedComparison:
        return "x"


def marker_row(text):
    try:
        m = Marker(text)
    except InvalidMarker:
        return [text, None, ""]
    return [text, str(m), "".join(evaluate(m, e) for e in ENVS)]


def gen_markers():
    texts = list(REAL)
    combos = itertools.chain(itertools.product(VARIABLES, OPERATORS, VALUES),
                             itertools.product(LEGACY_VARIABLES, OPERATORS, ["1.0", "dog", "x86_64"]))
    for var, op, val in combos:
        q = "'" if '"' in val else '"'
        texts.append(f"{var} {op} {q}{val}{q}")
        texts.append(f"{q}{val}{q} {op} {var}")
    rows = [marker_row(t) for t in texts]
    with open("envs.json", "w") as f:
        json.dump(ENVS, f, indent=1)
    with open("markers.jsonl", "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


NAMES = ["package", "pAcKaGe", "Package", "foo-bar.quux_bAz", "installer", "android12", "A", "a1.b-C_2"]
EXTRAS = [set(), {"a"}, {"a", "b"}, {"a", "B", "CDEF123"}, {"Foo_Bar", "foo-bar"}]
URL_OR_SPEC = [
    (None, ""),
    ("https://files.example.invalid/packagename.zip", ""),
    ("ssh://user:pass%20word@git.example.invalid/packagename.zip", ""),
    ("https://files.example.invalid/name;v=1.1/?query=foo&bar=baz#blah", ""),
    ("git+ssh://git.example.invalid/MyProject", ""),
    ("git+ssh://git@git.example.invalid:pypa/packaging.git", ""),
    ("git+https://git.example.invalid/MyProject.git@master", ""),
    ("git+https://git.example.invalid/MyProject.git@refs/pull/123/head", ""),
    ("file:///absolute/path", ""),
    ("file://.", ""),
    (None, "==={ws}arbitrarystring"),
    (None, "({ws}==={ws}arbitrarystring{ws})"),
    (None, "=={ws}1.0"),
    (None, "({ws}=={ws}1.0{ws})"),
    (None, "=={ws}1.0-alpha"),
    (None, "<={ws}1!3.0.0.rc2"),
    (None, ">{ws}2.2{ws},{ws}<{ws}3"),
    (None, "(>{ws}2.2{ws},{ws}<{ws}3)"),
    (None, ">={ws}2.8.1{ws},{ws}=={ws}2.8.*"),
    (None, "~={ws}1.4.5{ws},{ws}!={ws}1.4.7{ws},"),
]
MARKERS = [
    None,
    "python_version{ws}>={ws}'3.3'",
    '({ws}python_version{ws}>={ws}"3.4"{ws}){ws}and extra{ws}=={ws}"oursql"',
    "sys_platform{ws}!={ws}'linux' and(os_name{ws}=={ws}'linux' or python_version{ws}>={ws}'3.3'{ws}){ws}",
    "platform_machine{ws}=={ws}'aarch64'{ws}and{ws}python_version{ws}>={ws}'3.10'",
]

REQUIREMENTS = [
    # PEP 508's examples (placeholder hosts), and the shapes its grammar allows.
    "A", "A.B-C_D", "aa", "name", "name<=1", "name[quux, strange];python_version<'2.7' and platform_version=='2'",
    "name[quux, strange]", "name@https://index.example.invalid/foo", "name>=3", "name (>=3)", "name>=3,<2",
    "name>=3 ,<2", "name@ https://index.example.invalid/foo ; extra == 'feature'",
    "requests [security,tests] >= 2.8.1, == 2.8.* ; python_version < \"2.7\"",
    'requests[security, tests]>=2.8.1,==2.8.*;python_version<"2.7"',
    "pip @ https://files.example.invalid/pip-1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686",
    "name [fred,bar] @ https://index.example.invalid/foo ; python_version=='2.7'",
    "foo @ https://index.example.invalid/name;v=1.1/?query=foo&bar=baz#blah ; python_version=='3.4'",
    "name; os_name=='a' and os_name=='b' or os_name=='c'", "name; os_name=='a' and (os_name=='b' or os_name=='c')",
    "name[bar]>=3; python_version == \"2.7\"", "name@ https://index.example.invalid/foo",
    "foobar [quux,bar]", "foo[]", "name()", "name ()", "name (  )", "name(>=1)", "name===x", "name=== x",
    "name ( === x )", "name>=1.0,", "name>=1.0,;os_name=='a'", "name (>=1.0,)", "name[ a , b ]",
    "name;os_name=='a'", "name; os_name=='a' ", " name", "name>=1, <2", "name >= 1.0 , < 2",
    "name==1.0.post1+local", "name==1.*", "name!=1.0.*", "name~=1.4.5", "name>=1.0a1", "name==v1.0",
    "name[a]@ https://index.example.invalid/x", "name@https://index.example.invalid/x ;os_name=='a'",
    "name @ https://index.example.invalid/x;os_name=='a'", "name[Foo_Bar,foo-bar]", "Django>=4.2,<5",
    "importlib-metadata; python_version<\"3.8\"", "appdirs>=1.4.4,<2; os_name==\"posix\" and extra==\"testing\"",
    "numpy==2.1.0 ; python_full_version >= '3.10' and platform_machine == 'aarch64'",
    "pywin32==306 ; sys_platform == 'win32'", "uvloop>=0.15 ; sys_platform != 'win32' and implementation_name == 'cpython'",
    "cffi>=1.12 ; platform_python_implementation != 'PyPy'", "tomli>=1.1.0 ; python_version < '3.11'",
    "pkg[extra1,extra2] @ git+https://git.example.invalid/pkg.git@v1.0 ; python_version >= '3.9'",
    "black (>=22.1) ; extra == 'format'",
    # Invalid in packaging too.
    "", "foo!", "==0.0", "name[bar baz]", "name[bar, baz,]", "name (>= 1.0", "black (>=20.*) ; extra == 'format'",
    "name[bar, baz >= 1.0", "name[bar, baz", "name @ https://index.example.invalid/; extra == 'example'",
    "name; (extra == 'example'", "name @ ", "name; invalid_name", "name; '3.7' <= invalid_name",
    "name; '3.7' notin python_version", "name; '3.6'inpython_version", "name; '3.7' not python_version",
    "name; '3.7' ~ python_version", "name==1.0.org1", "name==", "name 1.0", "name >= 1.0 #", "name[a,]",
    "name[a b]", "name==1.0;", "name;", "name (>=1.0", "name >=1 (", "name>=1.0+local", "name @",
    "name[", "name]", "name[a]]", "name @ https://x.example.invalid/ extra", "name>=1.0 ; python_version >= '3.9' and",
    "name>=1,,<2", "name ; ", "name>=1.*", "name===", "name(>=1", "name(>=1))",
]


def requirement_row(text):
    try:
        r = Requirement(text)
    except InvalidRequirement:
        return [text, None]
    return [text, {
        "name": canonicalize_name(r.name),
        "extras": sorted({canonicalize_name(e) for e in r.extras}),
        "specifier": sorted(str(s) for s in r.specifier),
        "url": r.url or "",
        "marker": str(r.marker) if r.marker is not None else "",
    }]


def gen_requirements():
    texts = list(REQUIREMENTS)
    rnd = random.Random(508)
    product = list(itertools.product(NAMES, EXTRAS, URL_OR_SPEC, MARKERS, ["", " ", "\t"]))
    for name, extras, (url, spec), marker, ws in rnd.sample(product, 700):
        parts = [name]
        if extras:
            parts += ["[", f"{ws},{ws}".join(sorted(extras)), "]"]
        if spec:
            parts.append(spec.format(ws=ws))
        if url is not None:
            parts += ["@", url]
        if marker is not None:
            parts.append(" ;" if url is not None else ";")
            parts.append(marker.format(ws=ws))
        texts.append(ws.join(parts))
    with open("requirements.jsonl", "w") as f:
        for t in texts:
            f.write(json.dumps(requirement_row(t)) + "\n")


if __name__ == "__main__":
    gen_markers()
    gen_requirements()
