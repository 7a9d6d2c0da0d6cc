"""The sandbox, applied inside the script's process by the bootstrap before the script runs.

Standard library only, like the bootstrap (it may run under a user's virtualenv). In order:

1. ``cgroup``: the run's pids cgroup (a process cap, and every descendant is found and killed
   after the run, double-forked daemons included), when the runner has one: the process was
   forked inside it by a fork server cell (``cgroup`` in the policy: True, or False when the cell
   could not join it);
2. ``namespaces`` (strict, where unprivileged user namespaces work; an extra, never required):
   new user, IPC and UTS namespaces, and a network namespace when the network is off (only a
   loopback device, down: nothing is reachable, UDP and raw sockets included);
3. ``rlimits``: address space, CPU time (hard = soft + 1 s), file size, no core dumps;
   never RLIMIT_NPROC, which counts every process of the user;
4. ``landlock`` (Linux >= 5.13): writes only under the allowed folders; in strict, reads only
   from the allowed ones; TCP bind/connect denied when the network is off (ABI >= 4); signals
   and abstract sockets scoped to the run (ABI >= 6), so a script cannot signal the app;
5. ``seccomp`` (libseccomp through ctypes, loaded before Landlock hides the loader cache):
   ptrace, process_vm_*, mount, unshare/setns, bpf, io_uring, keyctl, userfaultfd, module and
   kexec calls kill the process (SIGSYS); with the network off, UNIX/INET/INET6/PACKET/NETLINK
   sockets fail (socketpair stays); with subprocesses off, exec and fork kill the process
   (threads still work);
6. ``audit``: a ``sys.addaudithook`` guard rail that names what was attempted (blocked imports,
   writes and strict reads outside the allow-lists, connections, name lookups, subprocesses,
   signals to processes outside the run), and alone keeps scripts from the app's own data
   (``protected_paths``) and from file metadata (chmod, chown, utime, xattrs) outside the
   writable folders, which Landlock does not cover. It is bypassable on its own (ctypes); the
   layers above are the walls.

Each violation the guard rail sees is written to the report pipe at once, so a script that
catches the ``SecurityError`` is still reported as blocked.
"""

from __future__ import annotations

import os
import sys

__all__ = [
    "SandboxRefusedError",
    "SecurityError",
    "apply",
    "apply_kernel_layers",
    "preload",
    "prepare",
    "survives_exec",
]

# Linux syscall numbers shared by x86_64 and aarch64 (the generic table) for Landlock.
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_PR_SET_NO_NEW_PRIVS = 38

_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_REMOVE_DIR = 1 << 4
_FS_REMOVE_FILE = 1 << 5
_FS_MAKE_CHAR = 1 << 6
_FS_MAKE_DIR = 1 << 7
_FS_MAKE_REG = 1 << 8
_FS_MAKE_SOCK = 1 << 9
_FS_MAKE_FIFO = 1 << 10
_FS_MAKE_BLOCK = 1 << 11
_FS_MAKE_SYM = 1 << 12
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5
_NET_BIND_TCP = 1 << 0
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX = 1 << 0
_SCOPE_SIGNAL = 1 << 1

_FS_WRITE = (
    _FS_WRITE_FILE
    | _FS_REMOVE_DIR
    | _FS_REMOVE_FILE
    | _FS_MAKE_CHAR
    | _FS_MAKE_DIR
    | _FS_MAKE_REG
    | _FS_MAKE_SOCK
    | _FS_MAKE_FIFO
    | _FS_MAKE_BLOCK
    | _FS_MAKE_SYM
)
_FS_READ = _FS_READ_FILE | _FS_READ_DIR | _FS_EXECUTE
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV

_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_ACT_KILL_PROCESS = 0x80000000
_SCMP_CMP_EQ = 4
_SCMP_CMP_MASKED_EQ = 7
_CLONE_THREAD = 0x00010000
_EPERM, _EACCES, _ENOSYS = 1, 13, 38
_AF_UNIX, _AF_INET, _AF_INET6, _AF_NETLINK, _AF_PACKET = 1, 2, 10, 16, 17
_SOCK_STREAM = 1
_NON_STREAM_TYPES = (2, 3, 4, 5, 10)  # dgram, raw, rdm, seqpacket, packet

_ALWAYS_DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "unshare",
    "setns",
    "bpf",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "pivot_root",
    "swapon",
    "swapoff",
    "reboot",
    "open_by_handle_at",
    "fsopen",
    "fsmount",
    "move_mount",
    "open_tree",
)
_EXEC_CALLS = ("execve", "execveat", "fork", "vfork")

# Audit events that change the file system: for each path argument, its position, the position
# of the ``dir_fd`` it is relative to (None: none), and whether the call follows a symlink there.
# Each path must lie in a writable folder and outside the protected ones (a hard link's source
# too: it would make that file writable). Metadata calls (chmod, chown, utime, xattrs) are
# checked through the symlink: Landlock does not cover them, so only this check does. An int
# in a path position is a descriptor (``os.fchmod``...), checked as the file it is open on.
_PATH_EVENTS: dict[str, tuple[tuple[int, int | None, bool], ...]] = {
    "os.link": ((0, 2, True), (1, 3, False)),
    "os.rename": ((0, 2, False), (1, 3, False)),
    "os.remove": ((0, 1, False),),
    "os.rmdir": ((0, 1, False),),
    "os.mkdir": ((0, 2, False),),
    "os.truncate": ((0, None, True),),
    "os.chmod": ((0, 2, True),),
    "os.chown": ((0, 3, True),),
    "os.symlink": ((1, 2, False),),
    "os.utime": ((0, 3, True),),
    "os.chflags": ((0, None, True),),
    "os.mkfifo": ((0, 2, False),),
    "os.mknod": ((0, 3, False),),
    "os.setxattr": ((0, None, True),),
    "os.removexattr": ((0, None, True),),
    "shutil.rmtree": ((0, 1, False),),
    "shutil.move": ((0, None, False), (1, None, False)),
}
_EVENT_VERBS = {
    "os.link": "hard-linking",
    "os.rename": "renaming",
    "os.remove": "deleting",
    "os.rmdir": "deleting",
    "shutil.rmtree": "deleting",
    "os.symlink": "creating",
}

# Always writable, also under strict: the null device and the terminal.
_DEVICES = ("/dev/null", "/dev/tty", "/dev/zero")
# Readable under strict besides the script's folder and the interpreter: what the C library
# and the interpreter read at run time.
_SYSTEM_READ = (
    "/usr/lib",
    "/usr/lib64",
    "/lib",
    "/lib64",
    "/usr/share/zoneinfo",
    "/usr/share/locale",
    "/etc/localtime",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/mime.types",
    "/dev/urandom",
    "/dev/random",
    "/proc",
    "/sys/devices/system/cpu",
)


class SecurityError(PermissionError):
    """Raised in the script when the sandbox stops an operation."""


class SandboxRefusedError(Exception):
    """A layer the policy requires could not be applied, and degrading is not allowed."""


def apply(policy: dict, report) -> tuple[list[str], bool]:  # type: ignore[no-untyped-def, type-arg]
    """Apply the policy's layers; returns (layers applied, degraded).

    When the fork server already applied the kernel layers before exec'ing this interpreter
    (``before_exec`` in the policy, see ``survives_exec``), only the rest is done here.
    """
    if policy.get("read_paths") is not None:
        policy = dict(policy, read_paths=[*policy["read_paths"], *_interpreter_paths()])
    before_exec = policy.get("before_exec")
    if before_exec:
        layers, degraded = list(before_exec["layers"]), bool(before_exec["degraded"])
    else:
        layers, degraded = apply_kernel_layers(policy)
    if policy.get("cgroup") is True:
        layers.insert(0, "cgroup")
    elif policy.get("cgroup") is False:
        reason = "the fork server could not move into the run's cgroup"
        degraded = _missing(policy, "process cap (cgroup)", reason)
    _install_guard(policy, report)
    layers.append("audit")
    _hide_blocked(policy)
    return layers, degraded


def survives_exec(policy: dict) -> bool:  # type: ignore[type-arg]
    """Whether the kernel layers may be applied before exec'ing a fresh interpreter (they are
    inherited through execve): not when exec is denied, nor when reads are restricted (the
    interpreter's own files are only known inside it)."""
    return bool(policy.get("subprocess", True)) and policy.get("read_paths") is None


def apply_kernel_layers(policy: dict) -> tuple[list[str], bool]:  # type: ignore[type-arg]
    """Namespaces, rlimits, Landlock and seccomp, which the kernel enforces: (applied, degraded)."""
    layers: list[str] = []
    degraded = False
    if policy.get("namespaces") and sys.platform.startswith("linux"):
        try:
            if _apply_namespaces(policy):
                layers.append("namespaces")
        except OSError as exc:
            degraded = _missing(policy, "namespaces", str(exc))
    _apply_rlimits(policy)
    layers.append("rlimits")
    if not sys.platform.startswith("linux"):
        # The OS sandbox the runner started this process under (macOS: sandbox-exec).
        held = [str(layer) for layer in policy.get("os_layers") or ()]
        if not held:
            reason = "Landlock and seccomp are Linux's, and no OS sandbox holds this process"
            degraded = _missing(policy, "OS sandbox", reason)
        return [*held, *layers], degraded
    seccomp_lib = None
    try:
        seccomp_lib = _load_libseccomp()
    except OSError as exc:
        degraded = _missing(policy, "seccomp", f"libseccomp is not available ({exc})")
    tcp_by_landlock = False
    try:
        tcp_by_landlock = _apply_landlock(policy) >= 4
        layers.append("landlock")
    except OSError as exc:
        degraded = _missing(policy, "landlock", str(exc))
    if seccomp_lib is not None:
        try:
            _apply_seccomp(seccomp_lib, policy, tcp_by_landlock)
            layers.append("seccomp")
        except OSError as exc:
            degraded = _missing(policy, "seccomp", str(exc))
    return layers, degraded


def _missing(policy: dict, layer: str, reason: str) -> bool:  # type: ignore[type-arg]
    """A layer could not be applied: refuse the run, or (when the policy allows) go on degraded.
    Returns True (degraded) when the run may go on."""
    if not policy.get("allow_degraded", True):
        raise SandboxRefusedError(f"the {layer} layer cannot be applied here: {reason}")
    return True


def _interpreter_paths() -> list[str]:
    """What strict must leave readable for this interpreter to keep working: its installation,
    its virtualenv and their site-packages."""
    import site

    paths = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(sys.executable),
    }
    try:
        paths.update(site.getsitepackages())
    except AttributeError:
        pass
    user_site = getattr(site, "USER_SITE", None)
    if user_site and site.ENABLE_USER_SITE:
        paths.add(user_site)
    return sorted(p for p in paths if p)


# -- namespaces -------------------------------------------------------------------------------

_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


def _apply_namespaces(policy: dict) -> bool:  # type: ignore[type-arg]
    """Move this (single-threaded) process into new user, IPC and UTS namespaces, and a new
    network namespace when the network is off. Its uid and gid are mapped to themselves, so
    files and ``os.getuid()`` look the same to the script; it loses every capability outside.

    False, with nothing changed, where the kernel refuses unprivileged user namespaces; OSError
    if the namespaces were made but the ids could not be mapped.
    """
    k = _kernel()
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWUSER | _CLONE_NEWIPC | _CLONE_NEWUTS
    if not policy.get("network", True):
        flags |= _CLONE_NEWNET
    if k.libc.unshare(flags) != 0:
        return False
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{uid} {uid} 1"),
        ("gid_map", f"{gid} {gid} 1"),
    ):
        fd = os.open(f"/proc/self/{name}", os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
    return True


# -- rlimits ----------------------------------------------------------------------------------


def _apply_rlimits(policy: dict) -> None:  # type: ignore[type-arg]
    import resource

    def limit(kind: int, value: int) -> None:
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value if hard == resource.RLIM_INFINITY else hard))

    if policy.get("memory_bytes"):
        limit(resource.RLIMIT_AS, int(policy["memory_bytes"]))
    if policy.get("cpu_seconds"):
        soft = max(1, int(policy["cpu_seconds"] + 0.999))
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        new_hard = soft + 1 if hard == resource.RLIM_INFINITY else min(soft + 1, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (min(soft, new_hard), new_hard))
    if policy.get("file_bytes"):
        limit(resource.RLIMIT_FSIZE, int(policy["file_bytes"]))
    if policy.get("max_open_files"):
        limit(resource.RLIMIT_NOFILE, int(policy["max_open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# -- landlock ---------------------------------------------------------------------------------


class _Kernel:
    """ctypes handles for the syscalls, built once per process (the fork server builds them
    before forking, so a child only makes the calls). Linux only."""

    def __init__(self) -> None:
        import ctypes

        self.ctypes = ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.syscall = self.libc.syscall
        self.syscall.restype = ctypes.c_long

        class RulesetAttr(ctypes.Structure):
            _fields_ = [
                ("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64),
            ]

        class PathBeneath(ctypes.Structure):
            _pack_ = 1
            _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

        self.RulesetAttr, self.PathBeneath, self.SockFprog = RulesetAttr, PathBeneath, SockFprog
        abi = self.syscall(
            _SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1)
        )
        self.landlock_abi = int(abi)
        self.landlock_errno = ctypes.get_errno() if abi < 1 else 0

    def no_new_privs(self) -> None:
        if self.libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(self.ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


_kernel_handles: _Kernel | None = None


def _kernel() -> _Kernel:
    global _kernel_handles
    if _kernel_handles is None:
        _kernel_handles = _Kernel()
    return _kernel_handles


def _apply_landlock(policy: dict) -> int:  # type: ignore[type-arg]
    """Restrict this process; returns the kernel's Landlock ABI version."""
    k = _kernel()
    ctypes, syscall, abi = k.ctypes, k.syscall, k.landlock_abi
    if abi < 1:
        raise OSError(k.landlock_errno, "Landlock is not supported by this kernel")
    write_rights = _FS_WRITE | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    if abi >= 5:
        write_rights |= _FS_IOCTL_DEV
    handled_fs = write_rights
    read_paths = policy.get("read_paths")
    if read_paths is not None:
        handled_fs |= _FS_READ
    handled_net = 0
    if not policy.get("network", True) and abi >= 4:
        handled_net = _NET_BIND_TCP | _NET_CONNECT_TCP
    scoped = (_SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX) if abi >= 6 else 0
    attr = k.RulesetAttr(handled_fs, handled_net, scoped)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    ruleset = syscall(
        _SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
    )
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        rules: dict[str, int] = {}
        for path in (*policy.get("write_paths", ()), *_DEVICES, "/dev/shm"):
            if path == "/dev/shm" and read_paths is not None:
                continue  # strict: no shared memory files
            rules[path] = rules.get(path, 0) | write_rights
        if read_paths is not None:
            readable = (*read_paths, *policy.get("write_paths", ()), *_DEVICES, *_SYSTEM_READ)
            for path in readable:
                rules[path] = rules.get(path, 0) | _FS_READ
        rule = k.PathBeneath()
        rule_ref = ctypes.byref(rule)
        for path, rights in rules.items():
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # a path that does not exist grants nothing
            try:
                if not _is_dir(os.fstat(fd).st_mode):
                    rights &= _FILE_ONLY
                rule.allowed_access, rule.parent_fd = rights & handled_fs, fd
                if syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, 1, rule_ref, 0) < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            finally:
                os.close(fd)
        k.no_new_privs()
        if syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def _is_dir(mode: int) -> bool:
    return (mode & 0o170000) == 0o040000


# -- seccomp ----------------------------------------------------------------------------------


_libseccomp = None
# The compiled BPF program per (network, subprocess, TCP left to Landlock): built once per
# process with libseccomp (~1 ms), then loaded with one prctl per script.
_seccomp_programs: dict[tuple[bool, bool, bool], bytes] = {}
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def _load_libseccomp():  # type: ignore[no-untyped-def]
    """libseccomp, loaded once (the fork server loads it before forking)."""
    global _libseccomp
    if _libseccomp is None:
        import ctypes

        # The soname directly: ctypes.util.find_library runs ldconfig (tens of ms).
        _libseccomp = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    return _libseccomp


def preload() -> None:
    """Load what applying a policy needs, so forked children do not pay for it."""
    import resource  # noqa: F401
    import site  # noqa: F401

    _kernel()
    try:
        _load_libseccomp()
    except OSError:
        pass


def prepare(policy: dict) -> None:  # type: ignore[type-arg]
    """Build, in the fork server before it forks, what every child applying ``policy`` would
    otherwise build again: its seccomp program. Linux only."""
    try:
        lib = _load_libseccomp()
    except OSError:
        return  # the child reports the missing layer
    try:
        _seccomp_program(lib, policy, _kernel().landlock_abi >= 4)
    except OSError:
        pass  # likewise


def _apply_seccomp(lib, policy: dict, tcp_by_landlock: bool) -> None:  # type: ignore[no-untyped-def, type-arg]
    program = _seccomp_program(lib, policy, tcp_by_landlock)
    k = _kernel()
    k.no_new_privs()  # already set by Landlock, unless Landlock is missing
    fprog = k.SockFprog(len(program) // 8, program)
    if k.libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, k.ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(k.ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def _seccomp_program(lib, policy: dict, tcp_by_landlock: bool) -> bytes:  # type: ignore[no-untyped-def, type-arg]
    """The policy's seccomp filter as BPF (libseccomp builds and exports it), cached."""
    network, subprocess = bool(policy.get("network", True)), bool(policy.get("subprocess", True))
    key = (network, subprocess, tcp_by_landlock and not network)
    program = _seccomp_programs.get(key)
    if program is None:
        program = _build_seccomp_program(lib, network, subprocess, key[2])
        _seccomp_programs[key] = program
    return program


def _build_seccomp_program(lib, network: bool, subprocess: bool, tcp_by_landlock: bool) -> bytes:  # type: ignore[no-untyped-def]
    import ctypes

    class ArgCmp(ctypes.Structure):
        _fields_ = [
            ("arg", ctypes.c_uint),
            ("op", ctypes.c_int),
            ("datum_a", ctypes.c_uint64),
            ("datum_b", ctypes.c_uint64),
        ]

    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(ArgCmp),
    ]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(_SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError(ctypes.get_errno(), "seccomp_init failed")

    def errno_action(code: int) -> int:
        return 0x00050000 | (code & 0xFFFF)

    def rule(action: int, name: str, *cmps: tuple[int, int, int, int]) -> None:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            return  # not on this architecture
        array = (ArgCmp * max(1, len(cmps)))(*[ArgCmp(*c) for c in cmps])
        result = lib.seccomp_rule_add_array(ctx, action, number, len(cmps), array)
        if result < 0:
            raise OSError(-result, f"seccomp rule for {name} failed")

    try:
        for name in _ALWAYS_DENIED:
            rule(_SCMP_ACT_KILL_PROCESS, name)
        if not network:
            deny_socket = errno_action(_EACCES)
            # AF_UNIX too: a socket file reaches any listener the user can (docker.sock, an
            # ssh agent), namespaces or not. socketpair() reaches nothing outside: it stays.
            for family in (_AF_UNIX, _AF_PACKET, _AF_NETLINK):
                rule(deny_socket, "socket", (0, _SCMP_CMP_EQ, family, 0))
            for family in (_AF_INET, _AF_INET6):
                if not tcp_by_landlock:
                    rule(deny_socket, "socket", (0, _SCMP_CMP_EQ, family, 0))
                    continue
                # TCP sockets may be created (Landlock refuses their connect and bind, and the
                # guard rail names the address); everything else (UDP, raw) may not.
                for kind in _NON_STREAM_TYPES:
                    rule(
                        deny_socket,
                        "socket",
                        (0, _SCMP_CMP_EQ, family, 0),
                        (1, _SCMP_CMP_MASKED_EQ, 0xF, kind),
                    )
        if not subprocess:
            for name in _EXEC_CALLS:
                rule(_SCMP_ACT_KILL_PROCESS, name)
            # New processes die; new threads (CLONE_THREAD) are fine. clone3 hides its flags
            # from seccomp, so it answers ENOSYS and the C library falls back to clone.
            rule(_SCMP_ACT_KILL_PROCESS, "clone", (0, _SCMP_CMP_MASKED_EQ, _CLONE_THREAD, 0))
            rule(errno_action(_ENOSYS), "clone3")
        buffer = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
        try:
            result = lib.seccomp_export_bpf(ctx, buffer)
            if result < 0:
                raise OSError(-result, "seccomp_export_bpf failed")
            size = os.lseek(buffer, 0, os.SEEK_CUR)
            program = os.pread(buffer, size, 0)
        finally:
            os.close(buffer)
        if not program or len(program) % 8:
            raise OSError(0, "seccomp_export_bpf gave no program")
        return program
    finally:
        lib.seccomp_release(ctx)


# -- the audit-hook guard rail ------------------------------------------------------------------


def _resolver():  # type: ignore[no-untyped-def]
    """A ``realpath`` that uses only functions captured now. ``os.path.realpath`` looks up
    ``abspath``, ``getcwd`` and friends in module globals on every call, so a script that
    replaced them would steer it; this one cannot be steered that way."""
    getcwd, lstat, readlink, fspath, fsdecode = (
        os.getcwd,
        os.lstat,
        os.readlink,
        os.fspath,
        os.fsdecode,
    )
    import stat

    is_link = stat.S_ISLNK

    def resolve(path: object) -> str:
        text = fsdecode(fspath(path))  # type: ignore[call-overload]
        if not text.startswith("/"):
            text = getcwd() + "/" + text
        pending = [p for p in text.split("/") if p]
        done: list[str] = []
        hops = 0
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = "/" + "/".join([*done, part])
            try:
                link = is_link(lstat(candidate).st_mode)
            except OSError:
                link = False
            if link and hops < 40:
                hops += 1
                target = readlink(candidate)
                if target.startswith("/"):
                    done = []
                pending = [p for p in target.split("/") if p] + pending
                continue
            done.append(part)
        return "/" + "/".join(done)

    return resolve


def _install_guard(policy: dict, report) -> None:  # type: ignore[no-untyped-def, type-arg]
    # Everything the hook uses is bound here, so a script that replaces os.path functions or
    # sys.modules entries later does not change what the hook does.
    realpath = _resolver()
    sep = os.sep
    getpgid, getpgrp = os.getpgid, os.getpgrp
    readlink, listdir, fstat, fspath, fsdecode = (
        os.readlink,
        os.listdir,
        os.fstat,
        os.fspath,
        os.fsdecode,
    )
    getframe, module_type = sys._getframe, type(sys)
    name = policy.get("name", "sandbox")
    blocked = frozenset(policy.get("blocked_modules", ()))
    writable = tuple(realpath(p) for p in (*policy.get("write_paths", ()), *_DEVICES))
    if policy.get("level") != "strict":
        writable += ("/dev/shm",)
    # The app's own data (its data directory, database, backups, config): never written, and
    # under strict never read, even where it lies inside a folder the run may write. Landlock
    # cannot take a folder out of a granted one, so this check is all that stands there.
    protected = tuple(realpath(p) for p in policy.get("protected_paths") or ())
    read_paths = policy.get("read_paths")
    readable = (
        None
        if read_paths is None
        else tuple(realpath(p) for p in (*read_paths, *_SYSTEM_READ)) + writable
    )
    network = policy.get("network", True)
    subprocess_allowed = policy.get("subprocess", True)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    own_group = getpgrp()
    error = SecurityError
    is_dir = _is_dir

    def deny(message: str) -> None:
        report({"violation": message, "error_type": "SecurityError"})
        raise error(message)

    def inside(path: str, roots: tuple[str, ...]) -> bool:
        return any(path == root or path.startswith(root.rstrip(sep) + sep) for root in roots)

    def app_data(what: str, target: str) -> None:
        deny(f"{what} {target} denied: it is ScriptBatch's own data, which no script may touch")

    def fd_path(fd: int) -> str | None:
        """The file ``fd`` is open on; None for a pipe, socket, memfd or other non-file."""
        try:
            link = readlink(f"/proc/self/fd/{fd}")
        except (OSError, ValueError):
            return None
        if not link.startswith("/") or link.startswith("/memfd:"):
            return None
        return link[: -len(" (deleted)")] if link.endswith(" (deleted)") else link

    def dir_fd_paths() -> list[str]:
        """The folders this process holds open: ``os.open`` does not tell the audit hook its
        ``dir_fd``, so a relative path might be relative to any of them."""
        found = []
        try:
            names = listdir("/proc/self/fd")
        except OSError:
            return found
        for entry in names:
            try:
                if not is_dir(fstat(int(entry)).st_mode):
                    continue
            except (OSError, ValueError):
                continue
            folder = fd_path(int(entry))
            if folder is not None:
                found.append(folder)
        return found

    def check_open(path: object, mode: object, flags: object) -> None:
        if isinstance(path, int) or path is None:
            return  # an already open descriptor
        try:
            text = fsdecode(fspath(path))  # type: ignore[call-overload]
            target = realpath(text)
        except (TypeError, ValueError, OSError):
            return
        writing = False
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & write_flags
        ):
            writing = True
        if writing:
            bytecode_cache(target, "writing")
        if protected and (writing or readable is not None):
            verb = "writing" if writing else "reading"
            if inside(target, protected):
                app_data(verb, target)
            if mode is None and not text.startswith("/"):  # os.open, maybe with a dir_fd
                for folder in dir_fd_paths():
                    candidate = realpath(folder + "/" + text)
                    if inside(candidate, protected):
                        app_data(verb, candidate)
        if writing and not inside(target, writable):
            deny(f"writing {target} denied: outside the folders policy '{name}' allows")
        if readable is not None and not inside(target, readable):
            deny(f"reading {target} denied: outside the folders policy '{name}' allows")

    def literal_address(host: str) -> bool:
        return ":" in host or all(part.isdigit() for part in host.split(".") if part)

    def resolve(path: object, dir_fd: object, follow: bool) -> str | None:
        """The real path a call acts on (``follow``: through a final symlink, else the link
        itself); None when there is nothing to check."""
        if path is None:
            return None
        if isinstance(path, int):
            return fd_path(path)
        text = fsdecode(fspath(path))  # type: ignore[call-overload]
        if isinstance(dir_fd, int) and dir_fd >= 0 and not text.startswith("/"):
            base = fd_path(dir_fd)
            if base is None:
                return None  # not a folder: the call fails by itself
            text = base + "/" + text
        if follow:
            return realpath(text)
        head, _, tail = text.rstrip("/").rpartition("/")
        return realpath(head or ("/" if text.startswith("/") else ".")) + "/" + tail

    def bytecode_cache(target: str, what: str) -> None:
        """Python writing a module's bytecode cache where the run may not write (a module
        imported from another folder): refused without counting as a violation, as Python
        itself goes on without the cache when the write fails."""
        parent, _, leaf = target.rpartition("/")
        cache = leaf == "__pycache__" or (parent.endswith("/__pycache__") and ".pyc" in leaf)
        if cache and (inside(target, protected) or not inside(target, writable)):
            raise error(f"{what} {target} denied (the bytecode cache; Python goes on without)")

    def check_write(path: object, dir_fd: object, what: str, follow: bool) -> None:
        try:
            target = resolve(path, dir_fd, follow)
        except (TypeError, ValueError, OSError):
            return
        if target is None:
            return
        bytecode_cache(target, what)
        if inside(target, protected):
            app_data(what, target)
        if not inside(target, writable):
            deny(f"{what} {target} denied: outside the folders policy '{name}' allows")

    def check_symlink_source(args: tuple) -> None:  # type: ignore[type-arg]
        """A symlink pointing into the app's data: writes through it would be checked, but a
        swap between such a link and a harmless one races the check, so none is made."""
        try:
            source = fsdecode(fspath(args[0]))
            link = resolve(args[1], args[2] if len(args) > 2 else None, False)
        except (TypeError, ValueError, OSError, IndexError):
            return
        if link is None:
            return
        target = realpath(
            source if source.startswith("/") else link.rpartition("/")[0] + "/" + source
        )
        if inside(target, protected):
            app_data("linking to", target)

    def address(args: tuple) -> str:  # type: ignore[type-arg]
        target = args[1] if len(args) > 1 else None
        if isinstance(target, tuple) and len(target) >= 2:
            return f"{target[0]}:{target[1]}"
        if isinstance(target, (bytes, bytearray)):
            target = bytes(target).decode(errors="replace")
        if isinstance(target, str) and target.startswith("\0"):
            return "@" + target[1:]  # an abstract socket
        return str(target)

    def loading_module() -> str | None:
        """The module importlib is executing (``exec_module``), when it is: ``import_module``
        and friends skip the ``import`` event that ``__import__`` raises."""
        frame = getframe(2)
        for _ in range(4):
            if frame is None:
                return None
            if frame.f_code.co_name == "exec_module":
                module = frame.f_locals.get("module")
                if isinstance(module, module_type):
                    spec = getattr(module, "__spec__", None)
                    return str(getattr(spec, "name", None) or getattr(module, "__name__", ""))
            frame = frame.f_back
        return None

    def check_module(module: str) -> None:
        if module in blocked or module.partition(".")[0] in blocked:
            deny(f"import of {module} denied by policy '{name}'")

    def hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
        if event == "open":
            check_open(*args[:3])
        elif event in _PATH_EVENTS:
            verb = _EVENT_VERBS.get(event, "changing")
            for position, dir_fd_at, follow in _PATH_EVENTS[event]:
                if position < len(args):
                    dir_fd = (
                        args[dir_fd_at] if dir_fd_at is not None and dir_fd_at < len(args) else None
                    )
                    check_write(args[position], dir_fd, verb, follow)
            if event == "os.symlink" and protected:
                check_symlink_source(args)
        elif event == "import":
            check_module(args[0] or "")
        elif event == "exec" and blocked:
            if getattr(args[0], "co_name", None) == "<module>":
                module = loading_module()
                if module:
                    check_module(module)
        elif readable is not None and protected and event in ("os.listdir", "os.scandir"):
            folder = args[0] if args else None
            try:
                target = resolve(folder if folder is not None else ".", None, True)
            except (TypeError, ValueError, OSError):
                return
            if target is not None and inside(target, protected):
                app_data("listing", target)
        elif not network and event in (
            "socket.connect",
            "socket.bind",
            "socket.sendto",
            "socket.sendmsg",
        ):
            family = getattr(args[0], "family", None)
            verb = {"socket.bind": "listening on"}.get(event, "connect to")
            unix = family is not None and int(family) == _AF_UNIX
            if unix and (len(args) < 2 or args[1] is None):
                return  # sendmsg on a connected socketpair: it reaches nothing outside
            deny(f"{verb} {address(args)} denied: network is off in policy '{name}'")
        elif not network and event == "socket.__new__":
            family, kind = int(args[1]), int(args[2]) & 0xF
            internet = family in (_AF_INET, _AF_INET6)
            if family == _AF_UNIX:
                # A new one (seccomp refuses it too); socket.socketpair() wraps the two it got
                # by passing their fileno, and must keep working (asyncio's event loop).
                caller = getframe(1)
                if caller.f_code.co_name == "__init__" and caller.f_locals.get("fileno", 0) is None:
                    deny(f"opening a Unix socket denied: network is off in policy '{name}'")
            elif family in (_AF_PACKET, _AF_NETLINK) or (internet and kind != _SOCK_STREAM):
                what = "UDP" if kind == 2 else ("raw" if kind == 3 else f"family {family}")
                deny(f"opening a {what} socket denied: network is off in policy '{name}'")
        elif not network and event in ("socket.getaddrinfo", "socket.gethostbyname"):
            host = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            if not literal_address(host):  # an IP address needs no lookup: connect decides
                deny(f"name lookup of {host} denied: network is off in policy '{name}'")
        elif not network and event == "socket.gethostbyaddr":
            host = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            deny(f"name lookup of {host} denied: network is off in policy '{name}'")
        elif not subprocess_allowed and event in (
            "subprocess.Popen",
            "os.system",
            "os.exec",
            "os.posix_spawn",
            "os.spawn",
            "os.fork",
            "os.forkpty",
            "os.popen",
            "pty.spawn",
        ):
            what = args[0] if args else event
            deny(f"starting a process ({what!r}) denied: subprocesses are off in policy '{name}'")
        elif event in ("os.kill", "os.killpg"):
            target = int(args[0])
            if event == "os.killpg":
                group = target or own_group
            elif target == -1:
                deny(f"signal {args[1]} to every process denied: only this run's may be signalled")
                return
            elif target < -1:
                group = -target
            elif target == 0:
                group = own_group
            else:
                try:
                    group = getpgid(target)
                except OSError:
                    return  # no such process: the kill fails by itself
            if group != own_group:
                deny(f"signal {args[1]} to process {target} denied: it is outside this run")

    sys.addaudithook(hook)


def _hide_blocked(policy: dict) -> None:  # type: ignore[type-arg]
    """Blocked modules the sandbox itself loaded (ctypes) leave ``sys.modules``, so the script
    must import them again, through the guard rail, rather than find them loaded. When ctypes
    is blocked (strict), the sandbox's own ctypes objects go too, and what is left of the ctypes
    modules is emptied, so that ``gc.get_objects()`` finds no library handle or function pointer
    to call (the C types themselves stay: see docs/sandbox.md)."""
    global _kernel_handles, _libseccomp
    blocked = set(policy.get("blocked_modules", ()))
    if not blocked:
        return
    hidden = []
    for module in list(sys.modules):
        if module in blocked or module.partition(".")[0] in blocked:
            hidden.append(sys.modules.pop(module))
    if not blocked & {"ctypes", "_ctypes"}:
        return
    import gc

    _kernel_handles = _libseccomp = None
    if {"ctypes", "_ctypes"} <= blocked:
        # Module globals lead from any class or function of theirs to CDLL and friends; the
        # interpreter keeps _ctypes (and a copy of its globals) alive for ever, as it does every
        # single-phase extension module, so those are emptied rather than left to the collector.
        handle_types = tuple(
            t
            for t in (getattr(m, n, None) for m in hidden for n in ("CDLL", "CFuncPtr"))
            if isinstance(t, type)
        )
        for module in hidden:
            namespace = vars(module)
            for key in ("_pointer_type_cache", "_c_functype_cache"):
                cache = namespace.get(key)
                if isinstance(cache, dict):
                    cache.clear()
            dlopen = namespace.get("dlopen") if namespace.get("__name__") == "_ctypes" else None
            namespace.clear()
            if dlopen is not None:
                for referrer in gc.get_referrers(dlopen):
                    if isinstance(referrer, dict):
                        referrer.clear()
        # A fork server froze its objects (gc.freeze) before forking: its CDLL and function
        # pointers keep each other alive, so they are collected only once thawed (strict only;
        # a full collection in the child, ~1 ms).
        gc.unfreeze()
        if handle_types:  # what others keep in their globals (the fork server's prctl)
            for holder in gc.get_objects():
                if isinstance(holder, dict):
                    for key, value in list(holder.items()):
                        if isinstance(value, handle_types):
                            holder[key] = None
    gc.collect()
