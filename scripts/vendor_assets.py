"""Refresh the JavaScript/CSS vendored in ``coverage/assets/`` for offline maps.

Every ``carecover`` map embeds Leaflet and jQuery (the only libraries the map's own scripts
use: Leaflet for everything, jQuery for folium's HTML popups; Bootstrap, awesome-markers and
icon fonts are not used) so that ``map.html`` opens without internet; only basemap tiles need
it. ``tests/outputs/test_map_layers.py`` checks the files against ``MANIFEST.json``. This script fetches the exact versions folium
references from the npm registry with ``npm pack`` and copies only the files needed, with
their licences, plus ``MANIFEST.json`` (version, source, sha256 of each file).

Usage::

    python scripts/vendor_assets.py          # needs `npm` and access to registry.npmjs.org
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "coverage" / "carecover" / "outputs" / "assets"


def _folium_versions() -> dict[str, str]:
    """Leaflet and jQuery versions named in folium's default CDN links."""
    import folium.folium as ff

    urls = dict(ff._default_js)
    return {
        "leaflet": re.search(r"leaflet@(\d+(?:\.\d+)*)", urls["leaflet"]).group(1),
        "jquery": re.search(r"jquery-(\d+(?:\.\d+)*)", urls["jquery"]).group(1),
    }


# package -> list of (path inside the npm tarball, name in coverage/assets)
FILES = {
    "leaflet": [
        ("package/dist/leaflet.js", "leaflet.js"),
        ("package/dist/leaflet.css", "leaflet.css"),
        ("package/dist/images/layers.png", "layers.png"),
        ("package/dist/images/layers-2x.png", "layers-2x.png"),
        ("package/dist/images/marker-icon.png", "marker-icon.png"),
        ("package/dist/images/marker-icon-2x.png", "marker-icon-2x.png"),
        ("package/dist/images/marker-shadow.png", "marker-shadow.png"),
        ("package/LICENSE", "LICENSE-leaflet.txt"),
    ],
    "jquery": [
        ("package/dist/jquery.min.js", "jquery.min.js"),
        ("package/LICENSE.txt", "LICENSE-jquery.txt"),
    ],
}


def main() -> None:
    versions = _folium_versions()
    ASSETS.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for package, files in FILES.items():
            spec = f"{package}@{versions[package]}"
            out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()[-1]
            with tarfile.open(Path(tmp) / out) as tar:
                for inner, name in files:
                    src = tar.extractfile(inner)
                    with open(ASSETS / name, "wb") as fh:
                        shutil.copyfileobj(src, fh)
                    data = (ASSETS / name).read_bytes()
                    manifest[name] = {
                        "package": package,
                        "version": versions[package],
                        "source": f"https://registry.npmjs.org/{package}/-/{out}",
                        "path": inner,
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
    (ASSETS / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(manifest)} files to {ASSETS}")


if __name__ == "__main__":
    main()
