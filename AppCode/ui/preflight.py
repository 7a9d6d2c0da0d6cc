"""Before Qt starts on Linux: is there a display, and are the xcb plugin's libraries installed?

Qt aborts with "could not load the Qt platform plugin" when they are missing; this check says
instead exactly what to install. ``make run`` runs it; ``scriptbatch-gui`` runs it too.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

# Debian/Ubuntu package -> the shared library the xcb platform plugin needs from it.
XCB_PACKAGES = {
    "libxcb-icccm4": "xcb-icccm",
    "libxcb-keysyms1": "xcb-keysyms",
    "libxcb-xinerama0": "xcb-xinerama",
    "libxcb-image0": "xcb-image",
    "libxcb-render-util0": "xcb-render-util",
    "libxcb-randr0": "xcb-randr",
    "libxkbcommon-x11-0": "xkbcommon-x11",
}


def problems() -> list[str]:
    """What stops the GUI from opening on this machine, each with the command that fixes it."""
    if not sys.platform.startswith("linux"):
        return []
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return []  # offscreen, wayland, vnc...: the user chose
    found: list[str] = []
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        found.append(
            "No display: DISPLAY is not set. Run ScriptBatch in a desktop session, or use "
            "the command line (scriptbatch --help), or a virtual display: xvfb-run make run"
        )
    missing = [pkg for pkg, lib in XCB_PACKAGES.items() if ctypes.util.find_library(lib) is None]
    if missing:
        found.append(
            "Qt's xcb platform plugin needs system libraries that are not installed. "
            f"Install them with:\n    sudo apt install {' '.join(missing)}"
        )
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(f"scriptbatch-gui: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
