"""What the HTTP client's own body reading costs (issue 19): Content-Encoding decoded in
bounded pieces, the wire length checked, the size cap counted, the deadline watchdog armed.

A loopback server in a process of its own serves one file (``--mb`` MB of a netCDF-like,
compressible body) plain and gzip-encoded. Cases, interleaved: ``HttpClient.download``
(into its cache, sha256, atomic rename) against the baseline of what the client did before,
requests' ``iter_content`` into a file with the same sha256 (urllib3 decoding the gzip).

    .venv/bin/python bench/download_bench.py [--mb 64] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import multiprocessing
import shutil
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _harness import import_project, interleaved, median, progress


def _body(mb: int) -> bytes:
    """Smooth float32-like values: about 4:1 under gzip, as the providers' files are."""
    import numpy as np

    values = np.round(np.sin(np.linspace(0, 400, mb * 250_000)) * 1000).astype(np.float32)
    return values.tobytes()


def _serve(mb: int, port_out) -> None:
    plain = _body(mb)
    packed = gzip.compress(plain, compresslevel=6)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = packed if self.path.endswith(".gz") else plain
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            if self.path.endswith(".gz"):
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import_project()
    import requests

    from arcticroute.sources.http_client import HttpClient, HttpPolicy

    queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(args.mb, queue), daemon=True)
    server.start()
    port = queue.get(timeout=60)
    folder = Path(tempfile.mkdtemp(prefix="download-bench-"))
    client = HttpClient(HttpPolicy(retries=0))
    session = requests.Session()

    def ours(name: str):
        def run():
            dest = folder / "ours" / name
            if dest.exists():
                dest.unlink()  # no 304: every round downloads
                dest.with_name(dest.name + ".http.json").unlink()
            client.download(f"http://127.0.0.1:{port}/{name}", dest)
        return run

    def baseline(name: str):
        def run():
            digest = hashlib.sha256()
            with session.get(f"http://127.0.0.1:{port}/{name}", stream=True, timeout=30) as response, \
                    open(folder / f"baseline-{name}", "wb") as handle:
                for block in response.iter_content(1 << 16):
                    handle.write(block)
                    digest.update(block)
        return run

    cases = {"ours identity": ours("file.bin"), "baseline identity": baseline("file.bin"),
             "ours gzip": ours("file.bin.gz"), "baseline gzip": baseline("file.bin.gz")}
    progress(f"{args.mb} MB body, {args.repeat} rounds")
    times = interleaved(cases, args.repeat)
    print(f"\n| case ({args.mb} MB decoded) | median s | vs baseline |\n|---|---:|---:|")
    for coding in ("identity", "gzip"):
        base = median(times[f"baseline {coding}"])
        for who in ("baseline", "ours"):
            value = median(times[f"{who} {coding}"])
            print(f"| {who} {coding} | {value:.3f} | {value / base:.2f} |")
    server.terminate()
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
