# ruff: noqa: F811 - the fixtures imported from replicas.helpers are parameters of the tests
"""ingest.nrt.pull against hostile loopback servers and broken files: Content-Encoding, a body
that trickles (deadline), a decompression bomb (size cap), infinite values, another day's file."""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from datetime import timedelta

import pytest
from filelock import FileLock

from .conftest import run_command
from .replicas.config import live_config
from .replicas.files import osisaf_conc
from .replicas.helpers import (  # noqa: F401 - fixtures
    BREMEN,
    DAYS,
    SINCE,
    YM,
    bremen_file,
    env_for,
    loopback_only,
    pull,
    sidecar,
    site,
)
from .test_sources_http import OSISAF


def bremen_path(day) -> str:
    return f"{BREMEN}/{day:%Y}/asi-AMSR2-n6250-{day:%Y%m%d}-v5.4.nc"


def runtime_edit(config, old: str, new: str) -> None:
    runtime = config / "runtime.yaml"
    text = runtime.read_text()
    assert old in text, old
    runtime.write_text(text.replace(old, new))


def nothing_kept(roots) -> bool:
    cache = roots.data / "cache"
    return not (roots.data / "env" / "ice.sic").exists() and not (cache.exists() and
                                                                  [p for p in cache.rglob("*") if p.is_file()])


@pytest.mark.parametrize("coding", ["gzip", "deflate", "deflate-raw"])
def test_an_encoded_body_is_decoded_and_its_length_checked_on_the_wire(roots, site, tmp_path, coding):
    day = DAYS[0]
    plain = bremen_file(site, day).read_bytes()
    site.encode(bremen_path(day), coding)
    env = env_for(roots, live_config(tmp_path, site.url()))
    result = pull(env)
    assert result.exit_code == 0, result.output
    assert "pulled 1 new" in result.stdout
    (source,) = sidecar(roots, day)["inputs"]
    assert source["sha256"] == hashlib.sha256(plain).hexdigest() and source["size_bytes"] == len(plain)
    (get,) = [h for h in site.hits if h.method == "GET" and h.status == 200]
    assert get.body_bytes < len(plain)  # it really was compressed on the wire
    assert "gzip" in get.headers["Accept-Encoding"] and "deflate" in get.headers["Accept-Encoding"]
    site.hits.clear()
    again = pull(env, "--json")  # the HEAD's Content-Length (on the wire) matches what was recorded
    assert again.exit_code == 0 and json.loads(again.stdout)["status"] == "no_new_data", again.output
    assert site.body_bytes() == 0


def test_a_damaged_or_cut_encoded_body_is_retried_then_refused(roots, site, tmp_path):
    day = DAYS[0]
    packed = gzip.compress(bremen_file(site, day).read_bytes())
    site.send_raw(bremen_path(day), packed[: len(packed) // 2], **{"Content-Encoding": "gzip"})
    result = pull(env_for(roots, live_config(tmp_path, site.url())))
    assert result.exit_code == 1, result.output
    assert "compressed stream ends early" in result.stderr and "gave up after 4 attempts" in result.stderr
    assert nothing_kept(roots)


def test_an_encoding_not_asked_for_is_refused(roots, site, tmp_path):
    site.send_raw(bremen_path(DAYS[0]), b"\x28\xb5\x2f\xfd" + bytes(100), **{"Content-Encoding": "zstd"})
    result = pull(env_for(roots, live_config(tmp_path, site.url())))
    assert result.exit_code == 1 and "Content-Encoding zstd (asked for gzip, deflate)" in result.stderr
    assert nothing_kept(roots)


def test_a_trickling_server_is_cut_at_the_deadline_and_the_lock_released(roots, site, tmp_path):
    site.trickle(bremen_path(DAYS[0]), 0.5)  # one byte every half second
    config = live_config(tmp_path, site.url())
    runtime_edit(config, "download_deadline_s: 1800", "download_deadline_s: 2")
    result = pull(env_for(roots, config))
    assert result.exit_code == 1, result.output
    assert "stopped at its deadline of 2 s" in result.stderr and "nothing was kept" in result.stderr
    assert "Traceback" not in result.output
    gets = [h for h in site.hits if h.method == "GET" and h.path.endswith(f"{DAYS[0]:%Y%m%d}-v5.4.nc")]
    assert len(gets) == 1  # a deadline is not retried
    lock = FileLock(roots.outputs / "locks" / "pull.lock", timeout=0)
    lock.acquire()  # raises Timeout if the run still held it
    lock.release()
    (alert,) = (roots.outputs / "alerts").glob("*_error_ingest.nrt.pull.json")
    assert "deadline" in json.loads(alert.read_text())["why"]
    assert nothing_kept(roots)


def test_the_run_deadline_stops_downloads_not_yet_started(roots, site, tmp_path):
    for day in DAYS:
        bremen_file(site, day)
    config = live_config(tmp_path, site.url())
    runtime_edit(config, "run_deadline_s: 7200", "run_deadline_s: 0.001")
    result = pull(env_for(roots, config))
    assert result.exit_code == 1, result.output
    assert "not started: the run's deadline (pull.run_deadline_s" in result.stderr
    assert not [h for h in site.hits if h.method == "GET" and h.status == 200]


def _bomb(mebibytes: int) -> bytes:
    """A gzip member of ``mebibytes`` MiB of zeros, about a thousand times smaller."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(mebibytes)) + packer.flush()


def test_a_gzip_bomb_stops_at_the_size_cap_and_is_not_retried(roots, site, tmp_path):
    bomb = _bomb(256)
    assert len(bomb) < 300_000
    site.send_raw(bremen_path(DAYS[0]), bomb, **{"Content-Encoding": "gzip"})
    config = live_config(tmp_path, site.url(), http={"max_mb": 4})
    result = pull(env_for(roots, config))
    assert result.exit_code == 1, result.output
    assert "stopped at the size cap of 4.0 MiB" in result.stderr and "nothing was kept" in result.stderr
    assert len([h for h in site.hits if h.method == "GET" and h.path == "/" + bremen_path(DAYS[0])]) == 1
    assert nothing_kept(roots)


def test_the_size_cap_default_comes_from_runtime_yaml(roots, site, tmp_path):
    bremen_file(site, DAYS[0])  # ~700 KB at 6.25 km
    config = live_config(tmp_path, site.url())
    runtime_edit(config, "max_download_mb: 2048", "max_download_mb: 0.25")
    result = pull(env_for(roots, config))
    assert result.exit_code == 1, result.output
    assert "refused before reading" in result.stderr and "over the size cap of 262144 bytes" in result.stderr
    site.encode(bremen_path(DAYS[0]), "gzip")  # the length on the wire says nothing of the file: read up to the cap
    result = pull(env_for(roots, config))
    assert result.exit_code == 1 and "stopped at the size cap of 262144 bytes" in result.stderr


@pytest.mark.parametrize("infinite, shown", [((3, 0), "3 infinite cells (3 +inf, 0 -inf)"),
                                             ((0, 2), "2 infinite cells (0 +inf, 2 -inf)"),
                                             ((5, 4), "9 infinite cells (5 +inf, 4 -inf)")])
def test_infinite_values_are_refused_with_the_cell_count(roots, site, tmp_path, infinite, shown):
    bremen_file(site, DAYS[0], infinite=infinite)
    result = pull(env_for(roots, live_config(tmp_path, site.url())))
    assert result.exit_code == 1, result.output
    assert shown in result.stderr and "refused and nothing was written" in result.stderr
    assert nothing_kept(roots)


def test_a_file_for_another_day_is_refused(roots, site, tmp_path):
    bremen_file(site, DAYS[0], dated=DAYS[0] - timedelta(days=7))
    result = pull(env_for(roots, live_config(tmp_path, site.url())))
    assert result.exit_code == 1, result.output
    assert f"a file dated {DAYS[0] - timedelta(days=7)} (its date attribute)" in result.stderr
    assert f"expected data for {DAYS[0]}" in result.stderr
    assert nothing_kept(roots)


@pytest.mark.parametrize("shift", [-1, 1, 365])
def test_a_time_coordinate_of_another_day_is_refused(roots, site, tmp_path, shift):
    day = DAYS[0]
    path = site.root / OSISAF / f"{day:%Y}" / f"{day:%m}" / f"ice_conc_nh_polstere-100_multi_{day:%Y%m%d}1200.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    osisaf_conc(path, day, dated=day + timedelta(days=shift))
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ice.sic", "--source",
                         "ice=osisaf-ice-conc", env=env_for(roots, live_config(tmp_path, site.url())))
    assert result.exit_code == 1, result.output
    assert f"says {day + timedelta(days=shift)}" in result.stderr and f"expected data for {day}" in result.stderr


def test_an_ais_archive_of_another_day_is_refused(roots, site, tmp_path):
    from .replicas.files import ais_tracks, noaa_ais_zip
    from .test_sources_kinds import AIS_NOAA

    day, other = DAYS[0], DAYS[0] - timedelta(days=30)
    path = site.root / AIS_NOAA / f"{day:%Y}" / f"AIS_{day:%Y_%m_%d}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    noaa_ais_zip(path, other, ais_tracks(other))
    result = run_command("ingest.nrt.pull", "--ym", YM, "--since", SINCE, "--what", "ais",
                         env=env_for(roots, live_config(tmp_path, site.url())))
    assert result.exit_code == 1, result.output
    assert f"pings are mostly of {other}" in result.stderr and f"expected the pings of {day}" in result.stderr
    assert not (roots.data / "env" / "ais.density").exists()


# -- the client alone, against raw sockets: what no web framework would send -----------------------

class RawServer:
    """A loopback TCP server answering every connection with ``script``: (bytes, pause) pairs."""

    def __init__(self, script):
        import socket
        import threading

        self.script = script
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import time

        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed by stop()
            self.connections += 1
            with conn:
                conn.recv(65536)
                try:
                    for data, pause in self.script:
                        conn.sendall(data)
                        time.sleep(pause)
                except OSError:
                    continue  # the client hung up: serve the next one

    def stop(self):
        self.listener.close()


@pytest.fixture
def raw_server():
    made = []

    def make(script):
        made.append(RawServer(script))
        return made[-1]

    yield make
    for server in made:
        server.stop()


def _client(**policy):
    from arcticroute.sources.http_client import HttpClient, HttpPolicy

    return HttpClient(HttpPolicy(**{"retries": 3, "backoff_s": 0.0, "timeout_s": 5, **policy}), sleep=lambda s: None)


@pytest.mark.parametrize("where", ["status line", "headers", "chunked body"])
def test_a_trickle_anywhere_in_the_answer_ends_at_the_deadline_without_a_retry(tmp_path, raw_server, where):
    from arcticroute.sources.http_client import LimitExceededError

    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
    if where == "status line":
        script = [(bytes([c]), 0.4) for c in b"HTTP/1.1 200 OK\r\n"]
    elif where == "headers":
        script = [(head, 0)] + [(b"X", 0.4) for _ in range(40)]
    else:
        script = [(head + b"Transfer-Encoding: chunked\r\n\r\n", 0)] + [(b"1\r\nA\r\n", 0.4) for _ in range(40)]
    server = raw_server(script)
    dest = tmp_path / "cache" / "file.nc"
    with pytest.raises(LimitExceededError) as caught:
        _client(deadline_s=1.5).download(f"http://127.0.0.1:{server.port}/file.nc", dest)
    assert "stopped at its deadline of 1.5 s" in str(caught.value) and "nothing was kept" in str(caught.value)
    assert server.connections == 1
    assert list(dest.parent.iterdir()) == []  # no file, no temporary, no record


@pytest.mark.parametrize("coding, packer", [("gzip", lambda d: gzip.compress(d)), ("deflate", zlib.compress),
                                            ("x-gzip", lambda d: gzip.compress(d)),
                                            ("gzip, deflate", lambda d: zlib.compress(gzip.compress(d)))])
def test_every_coding_offered_is_decoded_and_a_chunked_bomb_stops_at_the_cap(tmp_path, raw_server, coding, packer):
    from arcticroute.sources.http_client import LimitExceededError

    plain = bytes(range(256)) * 4096  # 1 MiB
    body = packer(plain)
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    server = raw_server([(head + body, 0)])
    got = _client().download(f"http://127.0.0.1:{server.port}/f", tmp_path / "f")
    assert got.path.read_bytes() == plain and got.wire_bytes == len(body) and got.size_bytes == len(plain)

    bomb = packer(bytes(64 << 20))
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(bomb[i:i + 65536]), bomb[i:i + 65536]) for i in range(0, len(bomb), 65536))
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    server = raw_server([(head + chunks + b"0\r\n\r\n", 0)])
    with pytest.raises(LimitExceededError, match="stopped at the size cap of 2.0 MiB"):
        _client(max_bytes=2 << 20).download(f"http://127.0.0.1:{server.port}/bomb", tmp_path / "bomb")
    assert server.connections == 1 and not (tmp_path / "bomb").exists()
