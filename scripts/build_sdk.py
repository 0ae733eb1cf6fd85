"""Build the agency SDK's wheel (``api-particulier-sdk``) from ``broker/sdk/``.

``python scripts/build_sdk.py [OUT_DIR]`` (default ``dist/``) prints the wheel's path. The
package is staged beside ``sdk/pyproject.toml`` so that the wheel holds the SDK and nothing
else of the repository.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        shutil.copy(ROOT / "sdk" / "pyproject.toml", stage)
        shutil.copy(ROOT / "sdk" / "README.md", stage)
        shutil.copytree(
            ROOT / "broker" / "sdk",
            stage / "broker" / "sdk",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        (stage / "broker" / "__init__.py").write_text("")
        before = set(out.glob("*.whl"))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--wheel-dir",
                str(out),
                str(stage),
            ],
            check=True,
        )
    built = sorted(set(out.glob("api_particulier_sdk-*.whl")) - before) or sorted(
        out.glob("api_particulier_sdk-*.whl")
    )
    return built[-1]


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"))
