"""The browser page at GET /graphql: a small query explorer served by the gateway itself,
so it works on a machine without internet access (no assets from a CDN)."""

EXPLORER_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Rugzak explorer</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; display: grid;
         grid-template-columns: 1fr 1fr; grid-template-rows: auto 1fr; height: 100vh; }
  header { grid-column: 1 / 3; padding: .5rem 1rem; background: #1d3557; color: #fff;
           display: flex; gap: 1rem; align-items: center; }
  header input { flex: 1; font-family: monospace; }
  section { display: flex; flex-direction: column; padding: .5rem; gap: .5rem; min-height: 0; }
  textarea, pre { font-family: ui-monospace, monospace; font-size: 13px; border: 1px solid #ccc;
                  padding: .5rem; margin: 0; }
  #query { flex: 3; } #variables { flex: 1; }
  pre { flex: 1; overflow: auto; background: #f7f7f7; white-space: pre-wrap; }
  button { font-size: 1rem; padding: .3rem 1rem; }
</style>
</head>
<body>
<header>
  <strong>Rugzak</strong>
  <label for="token">Bearer token</label>
  <input id="token" placeholder="paste a token from `rugzak token --citizen INSZ`">
  <button id="run" title="Ctrl+Enter">Run</button>
</header>
<section>
  <textarea id="query" spellcheck="false">query Profile {
  me {
    insz
  }
}</textarea>
  <textarea id="variables" spellcheck="false" placeholder="variables (JSON)"></textarea>
</section>
<section><pre id="result">Press Run (Ctrl+Enter).</pre></section>
<script>
const $ = (id) => document.getElementById(id);
for (const id of ["token", "query", "variables"]) {
  const saved = localStorage.getItem("rugzak." + id);
  if (saved) $(id).value = saved;
}
async function run() {
  const headers = { "content-type": "application/json" };
  const token = $("token").value.trim();
  if (token) headers.authorization = "Bearer " + token;
  let variables = null;
  try { variables = $("variables").value.trim() ? JSON.parse($("variables").value) : null; }
  catch (e) { $("result").textContent = "Variables are not valid JSON: " + e; return; }
  for (const id of ["token", "query", "variables"]) {
    localStorage.setItem("rugzak." + id, $(id).value);
  }
  const started = performance.now();
  const response = await fetch(location.pathname, { method: "POST", headers,
    body: JSON.stringify({ query: $("query").value, variables }) });
  const text = await response.text();
  let shown = text;
  try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
  const took = Math.round(performance.now() - started);
  $("result").textContent = `HTTP ${response.status} in ${took} ms\\n\\n` + shown;
}
$("run").onclick = run;
document.addEventListener("keydown", (e) => { if (e.ctrlKey && e.key === "Enter") run(); });
</script>
</body>
</html>
"""
