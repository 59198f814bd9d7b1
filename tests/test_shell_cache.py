"""The service worker's app shell: every module of the PWA is in it (a module left out breaks the
app offline: the import fails and the page stays blank), and everything in it is served."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shell_paths():
    with open(os.path.join(ROOT, "pwa", "sw.js"), encoding="utf-8") as handle:
        source = handle.read()
    listing = re.search(r"const SHELL = \[(.*?)\];", source, re.S).group(1)
    return re.findall(r'"([^"]+)"', listing)


def test_every_pwa_module_is_in_the_shell():
    modules = set()
    for folder, _, files in os.walk(os.path.join(ROOT, "pwa", "js")):
        for name in files:
            if name.endswith(".js"):
                modules.add("/" + os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/"))
    missing = sorted(modules - set(shell_paths()))
    assert not missing, f"add these to SHELL in pwa/sw.js (and bump VERSION): {missing}"


def test_every_shell_path_is_served(client):
    paths = shell_paths()
    assert len(paths) == len(set(paths))
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, f"{path} is in the shell but answers {response.status_code}"
        response.close()
