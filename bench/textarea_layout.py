#!/usr/bin/env python3
"""How Chromium's <textarea> copes with the same ~1 MiB model laid out in more or fewer lines.

Writes a page that times `t.value = text`, the first layout (`t.scrollHeight`) and five
`insertText` keystrokes for each layout, and prints what headless Chromium reports:

    python3 bench/textarea_layout.py

The figures are in docs/editor.md ("Large documents"); they decide sa_editor::layout's budget.
"""
import json
import pathlib
import subprocess
import tempfile

layers = []
size = 0
while size < 1_000_000:
    s = json.dumps({"label": f"layer {len(layers)}", "units": len(layers) % 512, "w": [0.25, 0.5, 0.75]},
                   separators=(",", ":"))
    size += len(s) + 1
    layers.append(s)


def grouped(k):
    rows = ["    " + ",".join(layers[i:i + k]) for i in range(0, len(layers), k)]
    return '{\n  "meta": {\n    "author": "ann"\n  },\n  "layers": [\n' + ",\n".join(rows) + "\n  ]\n}"


docs = {f"{k} per line": grouped(k) for k in (1, 2, 4, 8)}
docs["compact"] = '{"meta":{"author":"ann"},"layers":[' + ",".join(layers) + "]}"
page = """<!doctype html><textarea id=t style="width:800px;height:500px;font:14px monospace" wrap=off
spellcheck=false></textarea><pre id=out></pre><script>
const docs = %s, out = [], t = document.getElementById('t');
for (const [k, v] of Object.entries(docs)) {
  const a = performance.now(); t.value = v; const b = performance.now(); t.scrollHeight;
  const c = performance.now(); t.focus(); t.setSelectionRange(5000, 5000); const keys = [];
  for (let i = 0; i < 5; i++) { const s = performance.now();
    document.execCommand('insertText', false, 'x'); t.scrollHeight;
    keys.push((performance.now() - s).toFixed(0)); }
  out.push(`${k}: ${v.split('\\n').length} lines, value ${(b - a).toFixed(0)} ms, layout ${(c - b).toFixed(0)} ms, keys ${keys.join(',')} ms`);
  t.value = ''; t.scrollHeight;
}
document.getElementById('out').textContent = out.join('\\n');
</script>""" % json.dumps(docs)
with tempfile.TemporaryDirectory() as d:
    path = pathlib.Path(d) / "page.html"
    path.write_text(page)
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=600).stdout
    start = dom.index('<pre id="out">') + len('<pre id="out">')
    print(dom[start:dom.index("</pre>", start)])
