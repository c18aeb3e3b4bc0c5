"""Downloads, against a local HTTP server on 127.0.0.1 that serves the bundled sample files.

The server's URL prefix picks its behaviour: /good/ serves the file, /missing/ answers 404,
/corrupt/ serves the file with one byte changed, /truncated/ promises more bytes than it sends
and closes, /stall/ sends the headers and then nothing. No test reaches the internet: an autouse
fixture refuses every host but 127.0.0.1.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import re
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from minigen.data import MNIST, datasets, download
from minigen.data.download import FileInfo, Resource, download_dataset, download_file
from minigen.errors import DataError

SAMPLE = datasets.SAMPLE_FOLDER
NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
SAMPLE_FILES = {n: FileInfo(hashlib.sha256((SAMPLE / n).read_bytes()).hexdigest()) for n in NAMES}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        server = self.server
        server.requests.append(self.path)
        _, mode, name = self.path.split("/", 2)
        if mode == "missing" or name not in NAMES:
            self.send_error(404)
            return
        body = (SAMPLE / name).read_bytes()
        if mode == "corrupt":
            body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) + (1000 if mode == "truncated" else 0)))
        self.end_headers()
        if mode == "stall":
            server.release.wait(10)  # bounded; set at teardown so the server stops at once
            return
        self.wfile.write(body)
        if mode == "truncated":
            self.close_connection = True  # fewer bytes than Content-Length, then close

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.requests, httpd.release = [], threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def refused_url() -> str:
    """A URL on a local port nobody listens on: the connection is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/good/"


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse to resolve any host but 127.0.0.1: these tests never reach the internet."""
    real = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", b"127.0.0.1"):
            raise OSError(f"test tried to reach {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    monkeypatch.delenv("MINIGEN_MIRROR", raising=False)  # the user's own mirror, if set


def _resource(*mirrors: str) -> Resource:
    return Resource(mirrors=mirrors, files=SAMPLE_FILES)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- the happy paths


def test_download_all_files(server, tmp_path):
    out = download_dataset("mnist", tmp_path, resource=_resource(server.url + "/good/"),
                           progress=False)
    assert out == tmp_path
    assert _leftovers(tmp_path) == sorted(NAMES)  # no temp files left
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes()


def test_a_downloaded_file_gets_the_usual_mode_not_a_private_one(server, tmp_path):
    """A teacher's download into a shared MINIGEN_DATA folder must stay readable by others."""
    old = os.umask(0o022)
    try:
        download_dataset("mnist", tmp_path, NAMES[3:], resource=_resource(server.url + "/good/"),
                         progress=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / NAMES[3]).stat().st_mode) == 0o644


def test_failing_mirrors_then_one_that_works(server, refused_url, tmp_path):
    resource = _resource(refused_url, server.url + "/missing/", server.url + "/good/")
    download_dataset("mnist", tmp_path, NAMES[:1], resource=resource, progress=False)
    assert _leftovers(tmp_path) == NAMES[:1]
    assert server.requests == ["/missing/" + NAMES[0], "/good/" + NAMES[0]]


def test_a_verified_file_is_not_downloaded_again(server, tmp_path):
    resource = _resource(server.url + "/good/")
    download_dataset("mnist", tmp_path, NAMES[1:2], resource=resource, progress=False)
    download_dataset("mnist", tmp_path, NAMES[1:2], resource=resource, progress=False)
    assert server.requests == ["/good/" + NAMES[1]]


def test_a_damaged_cached_file_is_replaced(server, tmp_path):
    (tmp_path / NAMES[1]).write_bytes(b"garbage")
    with pytest.warns(UserWarning, match=re.escape(f"{tmp_path / NAMES[1]} is damaged")):
        download_dataset("mnist", tmp_path, NAMES[1:2],
                         resource=_resource(server.url + "/good/"), progress=False)
    assert (tmp_path / NAMES[1]).read_bytes() == (SAMPLE / NAMES[1]).read_bytes()


def test_another_datasets_file_is_not_overwritten(server, tmp_path, monkeypatch):
    """Fashion-MNIST's labels in MNIST's folder are not damaged: replacing them loses data."""
    theirs = b"another dataset's labels"
    monkeypatch.setitem(download.RESOURCES, "fashion-mnist", Resource(
        mirrors=(), files={NAMES[3]: FileInfo(hashlib.sha256(theirs).hexdigest())}))
    (tmp_path / NAMES[3]).write_bytes(theirs)
    with pytest.raises(DataError, match=f"{re.escape(str(tmp_path / NAMES[3]))} is "
                                        "fashion-mnist's .*not replacing it"):
        download_dataset("mnist", tmp_path, NAMES[3:], resource=_resource(server.url + "/good/"),
                         progress=False)
    assert (tmp_path / NAMES[3]).read_bytes() == theirs and server.requests == []


def test_a_killed_downloads_temp_file_is_removed_by_the_next(server, tmp_path):
    """SIGKILL mid-transfer leaves .<name>.<random>.part; one still being written stays."""
    stale, live = tmp_path / f".{NAMES[1]}.k1ll3d.part", tmp_path / f".{NAMES[1]}.l1v3.part"
    other = tmp_path / f".{NAMES[0]}.k1ll3d.part"  # another file's: its own download's business
    for part in (stale, live, other):
        part.write_bytes(b"half a file")
    an_hour_ago = time.time() - 3600
    for part in (stale, other):
        os.utime(part, (an_hour_ago, an_hour_ago))
    download_dataset("mnist", tmp_path, NAMES[1:2], resource=_resource(server.url + "/good/"),
                     progress=False)
    assert _leftovers(tmp_path) == sorted([live.name, other.name, NAMES[1]])
    assert (tmp_path / NAMES[1]).read_bytes() == (SAMPLE / NAMES[1]).read_bytes()


def _test_split_in(root: Path, damage: str = "") -> Path:
    """Copy the sample's test split into ``root``; damage its images file: "truncate" (half
    of it) or "recompress" (the same images, so another checksum but not damaged)."""
    root.mkdir()
    for name in NAMES[2:]:
        (root / name).write_bytes((SAMPLE / name).read_bytes())
    images = root / NAMES[2]
    if damage == "truncate":
        images.write_bytes(images.read_bytes()[: images.stat().st_size // 2])
    elif damage == "recompress":
        images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes()), 1, mtime=0))
    return images


@pytest.fixture
def only_mirror(server, tmp_path, monkeypatch):
    """MNIST's mirror is the local server, and no folder but the test's root holds MNIST."""
    monkeypatch.setitem(download.RESOURCES, "mnist", _resource(server.url + "/good/"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIGEN_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {})
    return server


def test_download_true_replaces_a_damaged_file_it_finds(only_mirror, tmp_path):
    images = _test_split_in(tmp_path / "root", "truncate")
    with pytest.warns(UserWarning, match=re.escape(f"{images} is damaged")):
        test = MNIST(tmp_path / "root", split="test", download=True, progress=False)
    assert (test.source, len(test)) == ("root", 1000)
    assert images.read_bytes() == (SAMPLE / NAMES[2]).read_bytes()
    assert only_mirror.requests == ["/good/" + NAMES[2]]  # the damaged file only
    assert _leftovers(tmp_path / "root") == sorted(NAMES[2:])


def test_without_download_a_damaged_file_is_an_error_naming_it(only_mirror, tmp_path):
    images = _test_split_in(tmp_path / "root", "truncate")
    with pytest.raises(DataError, match=f"(?s){re.escape(str(images))}: truncated gzip.*"
                                        r"MNIST\(\.\.\., download=True\)"):
        MNIST(tmp_path / "root", split="test")
    assert images.stat().st_size == (SAMPLE / NAMES[2]).stat().st_size // 2  # left as it was
    assert only_mirror.requests == []


def test_download_true_keeps_a_readable_file_of_another_checksum(only_mirror, tmp_path,
                                                                 recwarn):
    """Debian's package recompressed its .gz files: another checksum is no sign of damage."""
    images = _test_split_in(tmp_path / "root", "recompress")
    before = images.read_bytes()
    assert hashlib.sha256(before).hexdigest() != SAMPLE_FILES[NAMES[2]].sha256
    test = MNIST(tmp_path / "root", split="test", download=True, progress=False)
    assert (test.source, len(test)) == ("root", 1000)
    assert images.read_bytes() == before and only_mirror.requests == []
    assert not [w for w in recwarn if "damaged" in str(w.message)]


def test_progress_bar_reaches_the_file_size(server, tmp_path, capsys):
    download_file([f"{server.url}/good/{NAMES[1]}"], tmp_path / NAMES[1],
                  SAMPLE_FILES[NAMES[1]].sha256, progress=True)
    assert NAMES[1] in capsys.readouterr().err  # tqdm writes to stderr


def test_mnist_download_true_uses_the_mirrors(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(download.RESOURCES, "mnist", _resource(server.url + "/good/"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIGEN_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {})
    root = tmp_path / "root"
    test = MNIST(root, split="test", download=True, progress=False)
    assert (test.source, test.folder, len(test)) == ("download", root, 1000)
    assert _leftovers(root) == sorted(NAMES[2:])  # only the test split's two files
    again = MNIST(root, split="test", download=True)  # now found in root: no new request
    assert again.source == "root" and len(server.requests) == 2
    assert "bundled MNIST sample" not in capsys.readouterr().err


def test_download_goes_to_minigen_data_when_set(server, tmp_path, monkeypatch):
    monkeypatch.setitem(download.RESOURCES, "mnist", _resource(server.url + "/good/"))
    monkeypatch.setenv("MINIGEN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {})
    assert MNIST(split="test", download=True, progress=False).folder == tmp_path / "data/mnist"


def test_minigen_mirror_replaces_the_built_in_mirrors(server, tmp_path, monkeypatch):
    """A user's own mirror, e.g. a local copy: MNIST(download=True) needs no code change."""
    builtin = Resource(mirrors=("https://example.invalid/mnist/",), files=SAMPLE_FILES)
    monkeypatch.setitem(download.RESOURCES, "mnist", builtin)  # (the guard refuses its host)
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {})
    monkeypatch.setenv("MINIGEN_MIRROR", f"{server.url}/missing/ {server.url}/good")
    test = MNIST(tmp_path, split="test", download=True, progress=False)
    assert (test.source, len(test)) == ("download", 1000)
    assert server.requests == ["/missing/" + NAMES[2], "/good/" + NAMES[2],
                               "/missing/" + NAMES[3], "/good/" + NAMES[3]]
    monkeypatch.setenv("MINIGEN_MIRROR", f"{server.url}/corrupt/")
    with pytest.raises(DataError, match="(?s)checksum mismatch.*MINIGEN_MIRROR") as info:
        MNIST(tmp_path / "again", split="test", download=True, progress=False)
    assert "example.invalid" not in str(info.value)
    assert _leftovers(tmp_path / "again") == []


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("mode, reason", [
    ("corrupt", "checksum mismatch"),
    ("truncated", "truncated transfer"),
    ("missing", "HTTP 404"),
])
def test_a_bad_transfer_leaves_nothing(server, tmp_path, mode, reason):
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=reason) as info:
        download_dataset("mnist", cache, NAMES[:1], resource=_resource(f"{server.url}/{mode}/"),
                         progress=False)
    assert _leftovers(cache) == []  # neither the file nor a temp file
    assert "by hand" in str(info.value) and str(cache) in str(info.value)


def test_a_stalled_server_times_out(server, tmp_path):
    with pytest.raises(DataError, match=r"no answer within 0\.2 s|timed out") as info:
        download_file([f"{server.url}/stall/{NAMES[1]}"], tmp_path / NAMES[1],
                      SAMPLE_FILES[NAMES[1]].sha256, timeout=0.2, progress=False)
    assert _leftovers(tmp_path) == []
    assert f"{server.url}/stall/{NAMES[1]}" in str(info.value)


def test_every_mirror_failing_lists_each_attempt_and_the_manual_fix(server, refused_url,
                                                                     tmp_path):
    mirrors = (refused_url, server.url + "/missing/", server.url + "/corrupt/")
    with pytest.raises(DataError) as info:
        download_dataset("mnist", tmp_path, NAMES[2:], resource=_resource(*mirrors),
                         progress=False)
    message = str(info.value)
    for mirror in mirrors:
        for name in NAMES[2:]:
            assert mirror + name in message
    for name in NAMES[2:]:
        assert f"{name}  (SHA-256 {SAMPLE_FILES[name].sha256})" in message
    assert _leftovers(tmp_path) == []


def test_a_corrupt_mirror_is_skipped_for_a_good_one(server, tmp_path):
    resource = _resource(server.url + "/corrupt/", server.url + "/good/")
    download_dataset("mnist", tmp_path, NAMES[3:], resource=resource, progress=False)
    assert _leftovers(tmp_path) == NAMES[3:]


def test_mnist_download_failure_is_a_data_error_not_the_sample(refused_url, tmp_path,
                                                                monkeypatch):
    monkeypatch.setitem(download.RESOURCES, "mnist", _resource(refused_url))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {})
    with pytest.raises(DataError, match="downloading mnist failed"):
        MNIST(tmp_path / "root", download=True, progress=False)


# --------------------------------------------------------------------------- the table itself


@pytest.mark.parametrize("name", sorted(download.RESOURCES))
def test_known_checksums_are_self_consistent(name):
    resource = download.RESOURCES[name]
    assert sorted(resource.files) == sorted(NAMES)  # the canonical names, all four
    assert resource.mirrors and all(re.fullmatch(r"https?://\S+/", m) for m in resource.mirrors)
    sha = [info.sha256 for info in resource.files.values()]
    md5 = [info.md5 for info in resource.files.values()]
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in sha)
    assert all(re.fullmatch(r"[0-9a-f]{32}", h) for h in md5)
    assert len(set(sha)) == len(set(md5)) == 4
    sizes = [info.size for info in resource.files.values() if info.size is not None]
    assert all(s > 0 for s in sizes)


def test_datasets_do_not_share_checksums():
    hashes = [info.sha256 for r in download.RESOURCES.values() for info in r.files.values()]
    hashes += [info.sha256 for info in SAMPLE_FILES.values()]  # nor the sample's
    assert len(hashes) == len(set(hashes))
