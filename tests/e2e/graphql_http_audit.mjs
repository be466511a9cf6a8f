// Runs the graphql-http package's audit (its checks of a server against the GraphQL-over-HTTP
// spec) against the URL given as the only argument and prints one JSON line per audit item:
// {"id", "name", "status": "ok" | "warn" | "error", "reason"}.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node graphql_http_audit.mjs URL');
  process.exit(2);
}
const results = await auditServer({ url });
for (const result of results) {
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') line.reason = result.reason;
  console.log(JSON.stringify(line));
}
