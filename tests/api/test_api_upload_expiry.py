"""Uploads expire a lifetime after their last use: swept at start-up and periodically,
kept while runs use them, and a run or GET naming an expired one gets 410."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from api_harness import ServerThread

from agent.cli import main
from agent.server import ServerSettings
from agent.server.files import FileAccess

HOUR = 3600.0
ERROR_KEYS = {"detail", "code", "hint"}


@pytest.fixture(scope="module")
def hour_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """Uploads live an hour; the periodic sweep is far off, so each test sweeps itself."""
    config = ServerSettings(upload_ttl_h=1, upload_sweep_s=3600)
    srv = ServerThread(tmp_path_factory.mktemp("expiry-home"), config).start()
    yield srv
    srv.stop()


def _access(srv: ServerThread) -> FileAccess:
    access: FileAccess = srv.app.state.satya.access
    return access


def _upload(c: httpx.Client, path: Path, name: str | None = None) -> dict[str, object]:
    with path.open("rb") as fh:
        r = c.post("/uploads", files={"file": (name or path.name, fh)})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _folder(srv: ServerThread, user: str, upload_id: object) -> Path:
    return _access(srv).user_uploads(user) / str(upload_id)


def _age(path: Path, seconds: float) -> None:
    """Set a file's or folder's modification time ``seconds`` into the past."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def _is_expired_error(r: httpx.Response, hours: str) -> None:
    assert r.status_code == 410, r.text
    body = r.json()
    assert set(body) == ERROR_KEYS and body["code"] == "upload_expired", body
    assert f"expired after {hours}" in body["detail"], body
    assert "POST /uploads" in body["hint"] and "again" in body["hint"], body


def test_an_expired_upload_is_swept_and_naming_it_gets_410(
    hour_server: ServerThread, model_file: Path
) -> None:
    with hour_server.client("olga") as c:
        upload = _upload(c, model_file, "old.safetensors")
        uid = upload["upload_id"]
        expires = datetime.fromisoformat(str(upload["expires_at"]))
        assert 0.9 * HOUR < expires.timestamp() - time.time() <= HOUR
        folder = _folder(hour_server, "olga", uid)
        stored = folder / "old.safetensors"
        assert stored.is_file()

        _age(folder, 2 * HOUR)  # last used two hours ago: past its lifetime
        report = _access(hour_server).sweep()
        assert report.expired >= 1 and report.bytes >= model_file.stat().st_size
        assert not stored.exists()
        assert [p.name for p in folder.iterdir()] == [".expired"]  # nothing partial is left

        _is_expired_error(c.get(f"/uploads/{uid}"), "1 hour")
        tid = c.post("/threads", json={}).json()["thread_id"]
        for body in (
            {"input": {"message": "upload", "upload_id": uid}},
            {"input": {"message": "upload old.safetensors"}},
            {"input": {"message": "upload", "path": "old.safetensors"}},
        ):
            r = c.post(f"/threads/{tid}/runs/wait", json=body)
            _is_expired_error(r, "1 hour")
            assert "old.safetensors" in r.json()["detail"]
        assert c.get(f"/threads/{tid}/runs").json() == []  # nothing ran
        # an id that never existed is still plainly not found
        r = c.get("/uploads/neverexisted1")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        # a second sweep (another worker's, say) finds nothing more to do
        assert _access(hour_server).sweep().expired == 0


def test_uploads_a_thread_uses_survive_and_the_journey_goes_on(
    hour_server: ServerThread, model_file: Path
) -> None:
    with hour_server.client("uma") as c:
        uid = _upload(c, model_file)["upload_id"]
        folder = _folder(hour_server, "uma", uid)
        tid = c.post("/threads", json={}).json()["thread_id"]

        _age(folder, 0.8 * HOUR)  # close to its end: a run using it restarts the clock
        r = c.post(
            f"/threads/{tid}/runs/wait", json={"input": {"message": "upload", "upload_id": uid}}
        )
        assert r.status_code == 200 and r.json()["__interrupt__"][0]["value"]["gate"] == "upload"
        info = c.get(f"/uploads/{uid}").json()
        assert time.time() - datetime.fromisoformat(info["last_used_at"]).timestamp() < 600
        assert _access(hour_server).sweep().expired == 0 and (folder / model_file.name).is_file()

        # at the gate, a run on the thread that does not name the file keeps it too
        _age(folder, 0.8 * HOUR)
        r = c.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "check status"}})
        assert r.status_code == 200, r.text
        info = c.get(f"/uploads/{uid}").json()
        assert time.time() - datetime.fromisoformat(info["last_used_at"]).timestamp() < 600
        expires = datetime.fromisoformat(info["expires_at"]).timestamp()
        assert expires - time.time() > 0.8 * HOUR

        # looking at it does not count as a use
        _age(folder, 0.5 * HOUR)
        info = c.get(f"/uploads/{uid}").json()
        assert time.time() - datetime.fromisoformat(info["last_used_at"]).timestamp() > 0.4 * HOUR

        # the gate answered, the upload reads the file and the journey goes on
        r = c.post(f"/threads/{tid}/runs/wait", json={"command": {"resume": "yes"}})
        assert r.status_code == 200, r.text
        assert r.json()["context"].get("manifest_blob_id"), r.json()
        assert _access(hour_server).sweep().expired == 0 and (folder / model_file.name).is_file()


def test_unfinished_uploads_are_swept_once_stale(hour_server: ServerThread) -> None:
    user_dir = _access(hour_server).user_uploads("pia")
    fresh = user_dir / "freshupload1" / "a.safetensors.part"
    stale = user_dir / "staleupload1" / "b.safetensors.part"
    for part in (fresh, stale):
        part.parent.mkdir(parents=True)
        part.write_bytes(b"\0" * 1000)
    empty_old, empty_new = user_dir / "emptyupload1", user_dir / "emptyupload2"
    empty_old.mkdir()
    empty_new.mkdir()  # an upload about to open its file
    _age(stale, 2 * HOUR)
    _age(empty_old, 2 * HOUR)
    report = _access(hour_server).sweep()
    assert report.partial >= 1 and report.bytes >= 1000
    assert not stale.parent.exists()  # the file and its folder
    assert fresh.is_file()  # still arriving, perhaps
    assert not empty_old.exists() and empty_new.is_dir()
    with hour_server.client("pia") as c:  # and a file still arriving is no upload yet
        r = c.get("/uploads/freshupload1")
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def _plant(home: Path, user: str, upload_id: str, name: str, age_s: float) -> Path:
    """An upload as a server left it, last used ``age_s`` ago."""
    folder = FileAccess(home, None).user_uploads(user) / upload_id
    folder.mkdir(parents=True)
    (folder / name).write_bytes(b"\0" * 2048)
    _age(folder / name, age_s)
    _age(folder, age_s)
    return folder


def test_start_up_and_periodic_sweeps(tmp_path: Path, model_file: Path) -> None:
    home = tmp_path / "home"
    old = _plant(home, "ida", "plantedold01", "old.onnx", 3 * HOUR)
    recent = _plant(home, "ida", "plantednew01", "new.onnx", 0.5 * HOUR)
    part = _plant(home, "ida", "plantedpart1", "cut.onnx.part", 3 * HOUR)
    srv = ServerThread(home, ServerSettings(upload_ttl_h=1, upload_sweep_s=0.2)).start()
    try:
        assert not (old / "old.onnx").exists() and (old / ".expired").is_file()
        assert not part.exists()
        assert (recent / "new.onnx").is_file()
        with srv.client("ida") as c:
            _is_expired_error(c.get("/uploads/plantedold01"), "1 hour")
            assert c.get("/uploads/plantednew01").json()["filename"] == "new.onnx"
            # the periodic sweep takes what ages past its lifetime while the server runs
            uid = _upload(c, model_file)["upload_id"]
            folder = _folder(srv, "ida", uid)
            _age(folder, 2 * HOUR)
            deadline = time.monotonic() + 60
            while (folder / model_file.name).exists():
                assert time.monotonic() < deadline, "the periodic sweep did not run"
                time.sleep(0.1)
            _is_expired_error(c.get(f"/uploads/{uid}"), "1 hour")
            assert (recent / "new.onnx").is_file()
    finally:
        srv.stop()


def test_a_lifetime_of_never_keeps_uploads(
    tmp_path: Path, model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATYA_SERVER_UPLOAD_TTL_H", "never")
    config = ServerSettings()
    assert config.upload_ttl_s is None
    home = tmp_path / "home"
    old = _plant(home, "ned", "ancientupl01", "old.safetensors", 30 * 24 * HOUR)
    part = _plant(home, "ned", "ancientpart1", "cut.onnx.part", 3 * HOUR)
    srv = ServerThread(home, config).start()
    try:
        assert (old / "old.safetensors").is_file()
        assert not part.exists()  # a cut-off upload's temporary file is never of use
        assert _access(srv).sweep().expired == 0 and (old / "old.safetensors").is_file()
        with srv.client("ned") as c:
            info = c.get("/uploads/ancientupl01").json()
            assert info["expires_at"] is None and info["size"] == 2048
            assert _upload(c, model_file)["expires_at"] is None
    finally:
        srv.stop()
    assert ServerSettings(upload_ttl_h=0).upload_ttl_s is None


def test_serve_refuses_a_bad_lifetime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATYA_SERVER_UPLOAD_TTL_H", "24")  # restored after the test
    assert main(["--home", str(tmp_path), "serve", "--upload-ttl", "-1"]) == 2
    err = capsys.readouterr().err
    assert "SATYA_SERVER_UPLOAD_TTL_H" in err and "greater than or equal to 0" in err
    assert main(["--home", str(tmp_path), "serve", "--upload-ttl", "soon"]) == 2
    assert "SATYA_SERVER_UPLOAD_TTL_H" in capsys.readouterr().err
