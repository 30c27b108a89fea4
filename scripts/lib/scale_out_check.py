"""Runs a scale-out deployment file's commands on this machine (scripts/check-deploy.sh).

    scale_out_check.py k8s|compose DEPLOY_DIR LLMCACHED_BIN CONF WORK_DIR

Takes the Redis nodes' `redis-server` command lines and the llmcached nodes' command line from
deploy/k8s-scale-out or deploy/scale-out/docker-compose.yml, with only the addresses, the data
directory and the password put in: three Debian redis-server processes on free loopback ports,
joined with the `redis-cli --cluster create ... --cluster-replicas 0` the file runs, then one
llmcached with the file's flags and the three nodes as its seeds. Passes (exit 0, no output) when
the cluster reports cluster_state:ok and llmcached starts, answers PING, and shows the tier it was
given (CONFIG GET shared-tier, shared-tier-cluster). Every process it started is stopped by PID.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
from pathlib import Path

import yaml

START_TIMEOUT = 30.0
# Redis refuses a cluster port whose bus port (port + 10000) does not fit in 16 bits.
MAX_CLUSTER_PORT = 55535


def free_port() -> int:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port <= MAX_CLUSTER_PORT:
            return port
    raise SystemExit("no free port at or below 55535")


def commands(kind: str, deploy: Path) -> tuple[list[str], list[str], str]:
    """(redis-server argv, llmcached argv, the create command's text) as the file has them."""
    if kind == "k8s":
        d = deploy / "k8s-scale-out"
        redis = [x for x in yaml.safe_load_all(open(d / "redis-cluster.yaml")) if x][1]
        llm = yaml.safe_load(open(d / "statefulset.yaml"))
        job = yaml.safe_load(open(d / "redis-cluster-create.yaml"))
        redis_argv = redis["spec"]["template"]["spec"]["containers"][0]["command"]
        llm_argv = llm["spec"]["template"]["spec"]["containers"][0]["command"]
        create = " ".join(job["spec"]["template"]["spec"]["containers"][0]["command"])
    else:
        doc = yaml.safe_load(open(deploy / "scale-out/docker-compose.yml"))
        svcs = doc["services"]
        redis_argv = svcs["redis-1"]["command"]
        llm_argv = svcs["llmcached-1"]["command"]
        create = " ".join(svcs["redis-cluster-create"]["command"])
    return list(redis_argv), list(llm_argv), create


def substitute(word: str, password: str) -> str:
    # k8s spells variables $(NAME), compose ${NAME} or ${NAME:?message}.
    word = re.sub(r"\$\((?:REDIS_PASSWORD)\)|\$\{REDIS_PASSWORD(?::\?[^}]*)?\}", password, word)
    return word.replace("$(POD_IP)", "127.0.0.1")


class Proc:
    def __init__(self, argv: list[str], ready: str, env: dict[str, str] | None = None):
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=env)
        self.log: list[str] = []
        self.ready = threading.Event()
        self.match: re.Match[str] | None = None
        threading.Thread(target=self._pump, args=(re.compile(ready),), daemon=True).start()

    def _pump(self, ready: re.Pattern[str]) -> None:
        assert self.p.stdout is not None
        for raw in self.p.stdout:
            line = re.sub(r"\x1b\[[0-9;]*m", "", raw.decode("utf-8", "replace"))
            self.log.append(line)
            if not self.ready.is_set() and (m := ready.search(line)):
                self.match = m
                self.ready.set()
        self.ready.set()  # ended: wait() returns, match stays None

    def wait(self, what: str) -> re.Match[str]:
        if not self.ready.wait(START_TIMEOUT) or self.match is None:
            raise SystemExit(f"{what} did not start:\n" + "".join(self.log[-30:]))
        return self.match

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def cli(port: int, password: str, *args: str) -> str:
    done = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=30, env={**os.environ, "REDISCLI_AUTH": password})
    return done.stdout + done.stderr


def main() -> None:
    kind, deploy, binary, conf, work = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4], Path(sys.argv[5])
    redis_argv, llm_argv, create = commands(kind, deploy)
    password = secrets.token_hex(16)
    procs: list[Proc] = []
    try:
        ports = []
        for i in range(3):
            port, data = free_port(), work / f"redis-{i}"
            data.mkdir(parents=True)
            argv = [substitute(w, password).replace("/data/", f"{data}/") for w in redis_argv]
            argv[argv.index("--port") + 1] = str(port)
            argv += ["--bind", "127.0.0.1", "--dir", str(data)]
            procs.append(Proc(argv, "Ready to accept connections"))
            procs[-1].wait(f"redis-server {' '.join(argv)}")
            ports.append(port)
        # The file's create step, with the file's options, on these addresses.
        opts = re.search(r"--cluster create (\S+(?: \S+)*?) (--cluster-replicas \d+.*?)(?:\n|$)", create)
        if not opts:
            raise SystemExit(f"no `redis-cli --cluster create` in: {create}")
        out = cli(ports[0], password, "--cluster", "create",
                  *[f"127.0.0.1:{p}" for p in ports], *opts[2].split())
        for _ in range(3000):
            if "cluster_state:ok" in cli(ports[0], password, "cluster", "info"):
                break
            threading.Event().wait(0.01)
        else:
            raise SystemExit(f"the cluster never reported cluster_state:ok:\n{out}")
        masters = cli(ports[0], password, "cluster", "nodes").count("master")
        if masters != 3:
            raise SystemExit(f"{masters} masters, want 3")

        argv = [substitute(w, password) for w in llm_argv]
        argv[0] = binary
        argv[argv.index("/etc/llmcached/redis.conf")] = conf
        seeds = ",".join(f"redis://:{password}@127.0.0.1:{p}" for p in ports)
        argv[argv.index("--shared-tier") + 1] = seeds
        argv += ["--port", "0", "--bind", "127.0.0.1", "--dir", str(work / "llmcached")]
        (work / "llmcached").mkdir()
        llm_password = secrets.token_hex(16)
        env = {**os.environ, "NO_COLOR": "1", "LLMCACHED_REQUIREPASS": llm_password}
        # Ready once loaded (PING answers LOADING before); the port is on the earlier line.
        procs.append(Proc(argv, "Ready to accept connections", env))
        procs[-1].wait("llmcached with the file's flags")
        listening = re.search(r"listening on 127\.0\.0\.1:(\d+)", "".join(procs[-1].log))
        if not listening:
            raise SystemExit("llmcached did not say where it listens:\n" + "".join(procs[-1].log))
        port = int(listening[1])
        problems = []
        if (got := cli(port, llm_password, "ping").strip()) != "PONG":
            problems.append(f"PING: {got}")
        if (got := cli(port, llm_password, "--raw", "config", "get", "shared-tier-cluster").split()) != ["shared-tier-cluster", "yes"]:
            problems.append(f"shared-tier-cluster: {got}")
        if seeds not in cli(port, llm_password, "--raw", "config", "get", "shared-tier"):
            problems.append("CONFIG GET shared-tier does not show the three seeds")
        if problems:
            raise SystemExit("\n".join(problems) + "\n" + "".join(procs[-1].log[-30:]))
    finally:
        for p in reversed(procs):
            p.stop()


if __name__ == "__main__":
    main()
