"""Machines reached by SSH, built on this one for the launcher tests: network namespaces on a
bridge of their own (a subnet this machine does not route, so no packet leaves it), each host
with its own sshd (Debian's openssh-server) and, through mount and PID namespaces, its own /tmp,
home folder, /dev/shm and process table. The project's folder (its .venv) is every host's image.

Killing a host (`Hosts.kill`) ends every process it ran and drops its tmpfs: its disk is gone.
`Hosts.start` brings it back, empty, at the same address. Root only; `refusal()` says why not.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATE_SUBNETS = [f"10.213.{third}.0/24" for third in range(77, 100)]
WIPED = ("/tmp", "/root", "/dev/shm")  # each host's own, empty at every start


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=60)


def refusal() -> str | None:
    """Why this machine cannot build SSH hosts (a line for pytest.skip), or None."""
    if os.geteuid() != 0:
        return "needs root (network, mount and PID namespaces)"
    for tool in ("ip", "unshare", "/usr/sbin/sshd", "ssh", "ssh-keygen", "rsync"):
        if shutil.which(tool) is None:
            return f"no `{tool}` (Debian: apt-get install -y openssh-server rsync)"
    probe = f"bt-probe-{os.getpid()}"
    made = run("ip", "netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"cannot make a network namespace: {made.stderr.strip()}"
    run("ip", "netns", "del", probe, check=False)
    inside = run(
        "unshare", "--mount", "--pid", "--fork", "--mount-proc", "mount", "-t", "tmpfs", "none", "/mnt",
        check=False,
    )  # fmt: skip
    if inside.returncode != 0:
        return f"cannot make mount and PID namespaces with a tmpfs: {inside.stderr.strip()}"
    return None


def free_subnet() -> ipaddress.IPv4Network:
    """The first candidate subnet that no route and no address of this machine overlaps."""
    words = (
        run("ip", "-4", "route", "show", "table", "all").stdout + run("ip", "-4", "-o", "addr").stdout
    ).split()
    taken = []
    for word in words:
        try:
            taken.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue
    for candidate in map(ipaddress.ip_network, CANDIDATE_SUBNETS):
        if not any(candidate.overlaps(net) for net in taken if net.prefixlen > 0):
            return candidate
    raise RuntimeError(f"every candidate subnet is routed here: {CANDIDATE_SUBNETS}")


class Hosts:
    """A bridge (this machine: the subnet's first address) and hosts on it, by name. A host has
    its network from the start; `start` gives it sshd and its own files and processes."""

    def __init__(self, names: list[str], state: Path, *, keep: list[Path]):
        self.state, self.keep = state, keep
        tag = f"bt{os.getpid() % 100000}"
        self.bridge = f"{tag}br"
        self._lock = open(os.path.join(tempfile.gettempdir(), "banditune-sshhosts.lock"), "w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)  # one run at a time picks a subnet
        self.subnet = free_subnet()
        addresses = self.subnet.hosts()
        self.gateway = str(next(addresses))
        self.ip = {name: str(next(addresses)) for name in names}
        self.netns = {name: f"{tag}-{name}" for name in names}
        self.processes: dict[str, subprocess.Popen] = {}
        self.key = state / "id_ed25519"  # the user's key: authorized on every host
        self._made: list[tuple[str, ...]] = []
        try:
            self._build(tag)
        except BaseException:
            self._lock.close()
            self.close()
            raise

    def _build(self, tag: str) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key))
        prefix = self.subnet.prefixlen
        run("ip", "link", "add", self.bridge, "type", "bridge")
        self._made.append(("ip", "link", "del", self.bridge))
        run("ip", "addr", "add", f"{self.gateway}/{prefix}", "dev", self.bridge)
        self._lock.close()  # the subnet is routed here now: another run picks the next one
        run("ip", "link", "set", self.bridge, "up")
        for i, (name, ns) in enumerate(self.netns.items()):
            run("ip", "netns", "add", ns)
            self._made.append(("ip", "netns", "del", ns))
            outside = f"{tag}v{i}"
            run("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self._made.append(("ip", "link", "del", outside))
            run("ip", "link", "set", outside, "master", self.bridge, "up")
            inside = ("ip", "netns", "exec", ns, "ip")
            run(*inside, "addr", "add", f"{self.ip[name]}/{prefix}", "dev", "eth0")
            run(*inside, "link", "set", "eth0", "up")
            run(*inside, "link", "set", "lo", "up")
            # A default route on the link itself, no gateway: Ray finds the node's address by
            # the route to a public one; packets to other subnets find no neighbour and stay.
            run(*inside, "route", "add", "default", "dev", "eth0")
            hostdir = self.state / name
            hostdir.mkdir()
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostdir / "host_key"))
            (hostdir / "sshd_config").write_text(
                f"ListenAddress {self.ip[name]}:22\nHostKey {hostdir / 'host_key'}\nPidFile none\n"
                f"AuthorizedKeysFile {self.key}.pub\nPermitRootLogin prohibit-password\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                "Subsystem sftp internal-sftp\nLogLevel ERROR\n"
            )
        for ip in self.ip.values():  # this machine reaches each host through the bridge
            route = run("ip", "route", "get", ip).stdout
            assert f"dev {self.bridge}" in route, f"{ip} does not route to {self.bridge}: {route}"

    def start(self, name: str, *, bashrc: str) -> None:
        """Boots host `name`: empty /tmp, home and /dev/shm, `bashrc` as its ~/.bashrc (what its
        administrator provisioned), sshd in the foreground as the PID namespace's first process."""
        keep = [p for p in self.keep if str(p).startswith(WIPED)]
        script = ["set -e", "mount -t tmpfs bt-keep /mnt"]
        for i, path in enumerate(keep):  # folders under a wiped one stay visible
            script += [f"mkdir /mnt/{i}", f"mount --bind {shlex.quote(str(path))} /mnt/{i}"]
        script += [f"mount -t tmpfs -o mode=1777 bt-host {w}" for w in WIPED] + ["chmod 700 /root"]
        for i, path in enumerate(map(shlex.quote, map(str, keep))):
            script += [f"mkdir -p {path}", f"mount --move /mnt/{i} {path}"]
        script += [
            f"printf %s {shlex.quote(bashrc)} > /root/.bashrc",
            "mkdir -p /run/sshd",
            f"exec /usr/sbin/sshd -D -e -f {self.state / name / 'sshd_config'}",
        ]
        log = (self.state / name / "sshd.log").open("a")
        self.processes[name] = subprocess.Popen(
            [*self.inside(name), "unshare", "--mount", "--pid", "--fork",
             "--mount-proc", "--kill-child=SIGKILL", "bash", "-c", "\n".join(script)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while self.ssh(name, "true", check=False).returncode != 0:
            assert time.monotonic() < deadline and self.processes[name].poll() is None, (
                f"sshd on {name} did not start: {(self.state / name / 'sshd.log').read_text()[-2000:]}"
            )
            time.sleep(0.3)

    def inside(self, name: str) -> tuple[str, ...]:
        """A command prefix that runs the rest in host `name`'s network (its own ports)."""
        return ("ip", "netns", "exec", self.netns[name])

    def ssh(self, name: str, command: str, *, check: bool = True, timeout: float = 60):
        options = [
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "LogLevel=ERROR",
            "BatchMode=yes",
        ]
        return subprocess.run(
            [
                "ssh",
                "-i",
                str(self.key),
                *(f"-o{option}" for option in options),
                f"root@{self.ip[name]}",
                command,
            ],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def kill(self, name: str) -> None:
        """Every process of host `name` ends (SIGKILL to its first, so to all) and its tmpfs go."""
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)

    def close(self) -> None:
        for name in list(self.processes):
            self.kill(name)
        for command in reversed(self._made):
            run(*command, check=False)
        self._made.clear()
