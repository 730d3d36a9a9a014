"""How fast `prepuller lock` resolves many images, and how many HTTP requests it sends.

A real registry (Debian's ``docker-registry``) on 127.0.0.1 with token auth (a token server of
our own, ``tests/support/registry.py``), holding N single-platform images and N/10
multi-platform indexes (two platforms each), pushed first. Measured, best of R runs:

- ``lock``: ``RegistryClient.resolve_all`` over every image, as ``prepuller lock`` runs it
  (``--jobs`` threads, one token for all repositories);
- the floor: the same GETs a client must send at the least once it holds a token (manifest and
  config blob per single-platform image; index and each platform manifest per index), by the
  same number of threads over one connection pool, with no parsing or checking.

Printed: wall times, their ratio, and HTTP requests per image (to the registry, and to the
token server) for each kind of image. Goal: at most 2 requests per single-platform image once
a token is held. Run: ``.venv/bin/python benchmarks/lock.py [--images N] [--runs R] [--jobs J]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prepuller._docker_config import Credentials, DockerAuths
from prepuller._references import ImageReference, parse_reference
from prepuller._registry import RegistryClient
from tests.support.registry import Pusher, Registry, TokenServer, available, make_certificates

USER, PASSWORD = "bench", "bench-password"


def push(registry: Registry, single: int, multi: int) -> tuple[list[str], list[str], list[tuple[str, list[str]]]]:
    """Push the images; return the single and multi references (without the registry host,
    which changes when the registry restarts) and, per repository, the paths the floor GETs."""
    pusher = Pusher(registry.url)
    singles, multis, floor = [], [], []
    for number in range(single):
        image = pusher.image(f"bench/single-{number}", "1.0", layers=[b"x" * (1000 + number), b"y" * 500])
        singles.append(f"bench/single-{number}:1.0")
        repository = f"bench/single-{number}"
        floor.append((repository, [f"/v2/{repository}/manifests/1.0", f"/v2/{repository}/blobs/{image.config_digest}"]))
    for number in range(multi):
        repository = f"bench/multi-{number}"
        images = [
            pusher.image(repository, None, platform=platform, layers=[platform.encode() * 100])
            for platform in ("linux/amd64", "linux/arm64")
        ]
        pusher.index(repository, "1.0", images, attestation=False)
        multis.append(f"{repository}:1.0")
        floor.append(
            (
                repository,
                [f"/v2/{repository}/manifests/1.0", *(f"/v2/{repository}/manifests/{i.digest}" for i in images)],
            )
        )
    pusher.close()
    return singles, multis, floor


def run_lock(
    references: list[ImageReference], host: str, jobs: int, requests: list[httpx.Request]
) -> tuple[float, int]:
    auths = DockerAuths(entries={host: Credentials(USER, PASSWORD)})
    start = time.perf_counter()
    with RegistryClient(auths=auths, insecure=[host], jobs=jobs, on_request=requests.append) as client:
        resolved, failures = client.resolve_all(references)
    elapsed = time.perf_counter() - start
    assert not failures, failures[:3]
    return elapsed, len(resolved)


def run_floor(registry: Registry, realm: str, floor: list[tuple[str, list[str]]], jobs: int) -> float:
    """The GETs alone, with a token fetched beforehand (not timed)."""
    scopes = [("scope", f"repository:{repository}:pull") for repository, _ in floor]
    token = httpx.get(realm, params=[("service", Registry.SERVICE), *scopes], auth=(USER, PASSWORD)).json()["token"]
    accept = ", ".join(
        [
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ]
    )
    with httpx.Client(
        base_url=registry.url,
        headers={"Authorization": f"Bearer {token}", "Accept": accept},
        limits=httpx.Limits(max_connections=jobs, max_keepalive_connections=jobs),
    ) as client:

        def fetch(paths: list[str]) -> None:
            for path in paths:
                assert client.get(path).status_code == 200, path

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(fetch, [paths for _, paths in floor]))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100, help="single-platform images (default 100)")
    parser.add_argument("--runs", type=int, default=5, help="runs; the best is reported (default 5)")
    parser.add_argument("--jobs", type=int, default=8, help="threads, as prepuller lock --jobs (default 8)")
    args = parser.parse_args()
    if not available():
        sys.exit("needs Debian's docker-registry and openssl (apt-get install docker-registry openssl)")
    multi = max(args.images // 10, 1)
    with tempfile.TemporaryDirectory(prefix="prepuller-bench-lock-") as folder:
        work = Path(folder)
        storage = work / "storage"
        storage.mkdir()
        certificates = make_certificates(work / "certs")
        loader = Registry(storage, work).start()
        try:
            singles, multis, floor = push(loader, args.images, multi)
        finally:
            loader.stop()
        tokens = TokenServer(certificates, {USER: PASSWORD}).start()
        registry = Registry(storage, work, token=(tokens.realm, certificates.token_cert)).start()
        try:
            single_refs = [parse_reference(f"{registry.host}/{text}", "bench") for text in singles]
            all_refs = single_refs + [parse_reference(f"{registry.host}/{text}", "bench") for text in multis]
            lock_times, floor_times = [], []
            per_single = per_all = 0.0
            for _ in range(args.runs):
                tokens.requests.clear()
                requests: list[httpx.Request] = []
                elapsed, count = run_lock(all_refs, registry.host, args.jobs, requests)
                lock_times.append(elapsed)
                floor_times.append(run_floor(registry, tokens.realm, floor, args.jobs))
                to_registry = [r for r in requests if r.url.netloc.decode() == registry.host]
                per_all = len(to_registry) / count
                single_requests: list[httpx.Request] = []
                run_lock(single_refs, registry.host, args.jobs, single_requests)
                registry_single = [r for r in single_requests if r.url.netloc.decode() == registry.host]
                pings = sum(1 for r in registry_single if r.url.path == "/v2/")
                per_single = (len(registry_single) - pings) / len(single_refs)
                token_requests = sum(1 for r in requests if r.url.netloc.decode() != registry.host)
            best_lock, best_floor = min(lock_times), min(floor_times)
            print(f"images: {len(singles)} single-platform + {len(multis)} two-platform indexes, jobs {args.jobs}, "
                  f"best of {args.runs} runs")  # fmt: skip
            print(f"lock:  {best_lock:.3f} s wall (median {statistics.median(lock_times):.3f} s)")
            print(f"floor: {best_floor:.3f} s wall (the same GETs, token held, no checks)")
            print(f"ratio: {best_lock / best_floor:.2f}x the floor")
            print(f"requests per single-platform image, once a token is held: {per_single:.2f} (goal <= 2)")
            print(
                f"requests per image, all kinds, including the one /v2/ ping: {per_all:.2f}; "
                f"token requests: {token_requests} for {len(all_refs)} repositories"
            )
        finally:
            registry.stop()
            tokens.stop()


if __name__ == "__main__":
    main()
