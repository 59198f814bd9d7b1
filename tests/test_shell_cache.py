"""The service worker's app shell: every module of the PWA is in it (a module left out breaks the
app offline: the import fails and the page stays blank), everything in it is served, and its cache
version follows the files' contents."""
import os
import re
import shutil

from backend.service import web

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shell_paths():
    with open(os.path.join(ROOT, "pwa", "sw.js"), encoding="utf-8") as handle:
        return web.shell_paths(handle.read())


def test_every_pwa_module_is_in_the_shell():
    modules = set()
    for folder, _, files in os.walk(os.path.join(ROOT, "pwa", "js")):
        for name in files:
            if name.endswith(".js"):
                modules.add("/" + os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/"))
    missing = sorted(modules - set(shell_paths()))
    assert not missing, f"add these to SHELL in pwa/sw.js: {missing}"


def test_every_shell_path_is_served(client):
    paths = shell_paths()
    assert len(paths) == len(set(paths))
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, f"{path} is in the shell but answers {response.status_code}"
        response.close()


def test_the_cache_version_is_a_hash_of_the_shell(client, monkeypatch, tmp_path):
    served = client.get("/sw.js").get_data(as_text=True)
    version = re.search(r'const VERSION = "([^"]+)";', served).group(1)
    assert re.fullmatch(r"yima-shell-[0-9a-f]{12}", version)
    # The same app with one shell file changed gets another version.
    changed = tmp_path / "pwa"
    changed.mkdir()
    for name in ("sw.js", "manifest.webmanifest"):
        shutil.copyfile(os.path.join(ROOT, "pwa", name), changed / name)
    os.symlink(os.path.join(ROOT, "pwa", "js"), changed / "js")
    (changed / "index.html").write_text("<!doctype html><title>changed</title>", encoding="utf-8")
    monkeypatch.setattr(web, "PWA", str(changed))
    web.service_worker_source.cache_clear()
    try:
        other = re.search(r'const VERSION = "([^"]+)";', web.service_worker_source()).group(1)
    finally:
        web.service_worker_source.cache_clear()
    assert other != version and other.startswith("yima-shell-")
