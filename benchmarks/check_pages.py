r"""Open HTML pages (compare.html, report.html, map.html, ...) in headless Chromium at several window
widths and report, per page and width:

* **overflow**: the document is wider than the window (``document.documentElement.scrollWidth`` >
  ``window.innerWidth``), with the outermost elements that stick out on the right;
* **console errors**: Chromium's console lines that report an error, and uncaught ``error`` events;
* **outside requests**: every URL the page asked for that is not ``file:`` or ``data:`` (read from
  Chromium's net log; name resolution is switched off, so nothing leaves the machine);

and writes a screenshot of the window (``<stem>_<width>.png``) into ``--shots``.

The measurement runs on a copy of the page written beside it (``.check-<stem>.html``, removed
afterwards) with a small script appended that writes what it measured into the DOM once the page
has loaded; the screenshot is taken of the page as written. Chromium is driven as a plain binary
(``--headless --screenshot`` / ``--dump-dom``), as the project's map tests do; no Python package needed.

Usage::

    python benchmarks/check_pages.py results/compare_x/compare.html results/x/report.html
    python benchmarks/check_pages.py page.html --widths 1400,800 --height 2000 --shots /tmp/shots --json

Exit status 1 when any page overflows, logs a console error or asks for an outside host; 2 when no
Chromium binary is found.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--hide-scrollbars",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
    "--enable-logging=stderr", "--v=0",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any outside request fails (and is in the net log)
]
PROBE = """<pre id="check-pages-probe" hidden></pre><script>
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message || e)); });
  function measure() {
    var width = window.innerWidth, out = [];
    document.querySelectorAll('body *').forEach(function (el) {
      var box = el.getBoundingClientRect();
      if (box.right > width + 1 && box.width > 0 && out.length < 8) {
        var parent = el.parentElement && el.parentElement.getBoundingClientRect();
        if (!parent || parent.right <= width + 1) {
          out.push(el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ?
            '.' + String(el.className).split(' ').join('.') : '') + ' right=' + Math.round(box.right));
        }
      }
    });
    document.getElementById('check-pages-probe').textContent = JSON.stringify({
      inner_width: width, scroll_width: document.documentElement.scrollWidth,
      body_scroll_width: document.body.scrollWidth, sticking_out: out, errors: errors});
  }
  measure();
  window.addEventListener('load', measure);
})();
</script>"""


@dataclass
class Check:
    """What one page showed at one window width."""

    page: str
    width: int
    inner_width: int = 0
    scroll_width: int = 0
    overflow: bool = False
    sticking_out: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    screenshot: str = ""

    @property
    def ok(self) -> bool:
        return not (self.overflow or self.console_errors or self.outside_requests)


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium binary: ``explicit``, else the first of :data:`CANDIDATES` on the PATH."""
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def run_chromium(binary: str, page: Path, work: Path, size: tuple[int, int], *mode: str) -> tuple[str, str, list[str]]:
    """Run Chromium on ``page``; return stdout, stderr and every URL the page requested (from the net log)."""
    tag = f"{page.stem}-{size[0]}-{mode[0].strip('-').split('=')[0]}"
    profile, net_log = work / f"profile-{tag}", work / f"{tag}.netlog.json"
    done = subprocess.run(
        [binary, *FLAGS, f"--window-size={size[0]},{size[1]}", f"--user-data-dir={profile}",
         f"--log-net-log={net_log}", "--virtual-time-budget=5000", *mode, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited with {done.returncode} on {page}: {done.stderr[-1500:]}")
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    # the page's requests carry its file:// isolation key; Chromium's own background requests do not
    return done.stdout, done.stderr, [
        event["params"]["url"] for event in log["events"]
        if event["type"] == start_job and "file://" in event.get("params", {}).get("network_isolation_key", "")
    ]


def console_errors(stderr: str) -> list[str]:
    """Chromium's console lines (``--enable-logging=stderr``) that report an error, without the process
    and time prefix."""
    return [re.sub(r"^\[[^\]]*\]\s*", "", line).replace("/.check-", "/") for line in stderr.splitlines()
            if "CONSOLE" in line and ("Uncaught" in line or "rror" in line)]


def outside(urls: list[str]) -> list[str]:
    return [url for url in urls if not url.startswith(("file:", "data:", "blob:", "about:"))]


def check_page(binary: str, page: Path, width: int, height: int, shot: Path, work: Path) -> Check:
    """Screenshot ``page`` at ``width`` × ``height`` into ``shot`` and measure it (see the module docstring)."""
    page = Path(page)
    result = Check(page=str(page), width=width)
    _, stderr, requested = run_chromium(binary, page, work, (width, height), f"--screenshot={shot}")
    result.screenshot = str(shot)
    errors, urls = console_errors(stderr), outside(requested)
    probe_page = page.with_name(f".check-{page.stem}.html")
    text = page.read_text(encoding="utf-8")
    at = text.rfind("</body>")
    probe_page.write_text(text[:at] + PROBE + text[at:] if at >= 0 else text + PROBE, encoding="utf-8")
    try:
        dom, stderr, requested = run_chromium(binary, probe_page, work, (width, height), "--dump-dom")
    finally:
        probe_page.unlink(missing_ok=True)
    found = re.search(r'<pre id="check-pages-probe" hidden="">(.*?)</pre>', dom, re.DOTALL)
    measured = json.loads(html.unescape(found.group(1))) if found and found.group(1) else {}
    result.inner_width = int(measured.get("inner_width", 0))
    result.scroll_width = int(measured.get("scroll_width", 0))
    result.overflow = not measured or result.scroll_width > result.inner_width
    result.sticking_out = measured.get("sticking_out", []) if result.overflow else []
    result.console_errors = list(dict.fromkeys(errors + console_errors(stderr) + measured.get("errors", [])))
    result.outside_requests = list(dict.fromkeys(urls + outside(requested)))
    if not measured:
        result.console_errors.append("the measuring script did not run (no probe output in the DOM)")
    return result


def check_pages(pages, widths=(1400, 800), height: int = 2000, shots: Path | None = None,
                chromium: str | None = None) -> list[Check]:
    """Every page at every width; screenshots into ``shots`` (a temporary folder when None, removed)."""
    binary = find_chromium(chromium)
    if binary is None:
        raise FileNotFoundError(f"no Chromium binary found (tried {', '.join(CANDIDATES)}); "
                                "install one, e.g. apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="check-pages-") as work:
        target = Path(shots) if shots is not None else Path(work) / "shots"
        target.mkdir(parents=True, exist_ok=True)
        pages = [Path(page) for page in pages]
        stems = [page.stem for page in pages]  # pages of one name (compare.html of two runs): their folder too
        names = [page.stem if stems.count(page.stem) == 1 else f"{page.parent.name}-{page.stem}" for page in pages]
        return [check_page(binary, page, width, height, target / f"{name}_{width}.png", Path(work))
                for page, name in zip(pages, names, strict=True) for width in widths]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", type=Path, help="HTML files to open")
    parser.add_argument("--widths", default="1400,800", help="window widths, px (default 1400,800)")
    parser.add_argument("--height", type=int, default=2000, help="window height, px (default 2000)")
    parser.add_argument("--shots", type=Path, default=Path(tempfile.gettempdir()) / "planner-page-shots",
                        help="folder for the screenshots (default: planner-page-shots in the temporary folder)")
    parser.add_argument("--chromium", help="the Chromium binary (default: found on the PATH)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    try:
        results = check_pages(args.pages, [int(w) for w in args.widths.split(",")], args.height, args.shots,
                              args.chromium)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{**asdict(r), "ok": r.ok} for r in results], indent=2))
    for r in results if not args.json else []:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.page} @ {r.width}px: scrollWidth {r.scroll_width} / innerWidth "
              f"{r.inner_width}{' OVERFLOW ' + '; '.join(r.sticking_out) if r.overflow else ''}, "
              f"{len(r.console_errors)} console error(s), {len(r.outside_requests)} outside request(s) -> "
              f"{r.screenshot}")
        for line in r.console_errors + r.outside_requests:
            print(f"     {line}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
