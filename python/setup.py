"""setup.py - builds the edgevision Python package (pure Python, ctypes; nothing is compiled).

At build time it looks for libedgevision, in order:
  1. $EDGEVISION_LIBRARY;
  2. the repository's build tree: ../build/libedgevision.so.0 (cmake -S . -B build);
  3. a tree installed by `cmake --install` that pkg-config finds (edgevision.pc: its libdir);
  4. the dynamic loader's libedgevision.so.0 (ldconfig),
and copies the first it finds into the package (edgevision/libedgevision.so.0), recording where
it came from in edgevision/_install.py; the package then needs no environment variable. Without
a library the package still installs and looks for one at run time (edgevision/_lib.py).
Set EDGEVISION_BUNDLE=0 to record the path without copying the library.

NumPy comes from the system (python3-numpy) and is not declared as a requirement, so that
`pip install --target DIR` works offline.

Extend: a new module is a file in edgevision/ (packages are found automatically); a new data
file needs a package_data entry.
"""

import ctypes.util
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def find_library():
    env = os.environ.get("EDGEVISION_LIBRARY")
    if env:
        if not os.path.isfile(env):
            raise SystemExit("EDGEVISION_LIBRARY=%s: no such file" % env)
        return os.path.abspath(env)
    for name in ("libedgevision.so.0", "libedgevision.so"):
        p = os.path.join(HERE, "..", "build", name)
        if os.path.isfile(p):
            return os.path.abspath(p)
    try:
        libdir = subprocess.run(["pkg-config", "--variable=libdir", "edgevision"],
                                capture_output=True, text=True, check=True).stdout.strip()
        p = os.path.join(libdir, "libedgevision.so.0")
        if libdir and os.path.isfile(p):
            return os.path.abspath(p)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = ctypes.util.find_library("edgevision")
    return found or None


class BuildWithLibrary(build_py):
    """build_py that also writes edgevision/_install.py and bundles the library found."""

    def run(self):
        super().run()
        lib = find_library()
        target = os.path.join(self.build_lib, "edgevision")
        os.makedirs(target, exist_ok=True)
        bundle = os.environ.get("EDGEVISION_BUNDLE", "1") != "0"
        if lib and os.path.isabs(lib) and bundle:
            shutil.copy2(os.path.realpath(lib), os.path.join(target, "libedgevision.so.0"))
            print("edgevision: bundled %s" % lib)
        elif lib:
            print("edgevision: recorded %s (not bundled)" % lib)
        else:
            print("edgevision: no libedgevision found; set EDGEVISION_LIBRARY at run time")
        with open(os.path.join(target, "_install.py"), "w") as f:
            f.write('"""Written by setup.py at install time: the library it found."""\n')
            f.write("LIBRARY = %r\n" % (lib,))


setup(
    name="edgevision",
    version="0.1.0",
    description="Computer vision on edge hardware: Python API over libedgevision (ctypes)",
    packages=["edgevision"],
    python_requires=">=3.9",
    # NumPy is needed at run time (Debian: python3-numpy) but not declared: pip would fetch it
    # from the network for --target installs, and the install must work offline.
    cmdclass={"build_py": BuildWithLibrary},
    zip_safe=False,
)
