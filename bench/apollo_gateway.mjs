#!/usr/bin/env node
// Apollo Gateway (@apollo/gateway on @apollo/server's standalone HTTP server, versions pinned in
// package.json) for the side-by-side benchmark:
//
//   node bench/apollo_gateway.mjs SUPERGRAPH_FILE PORT
//
// Serves POST /graphql on 127.0.0.1:PORT over the supergraph file, forwarding the caller's
// Authorization header to every subgraph (as the other gateways in the benchmark do). Nothing
// leaves loopback: no APOLLO_KEY (so no usage or schema reporting), no landing page, and the
// caller sets APOLLO_TELEMETRY_DISABLED=1 (the gateway's own anonymous metrics).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { ApolloGateway, RemoteGraphQLDataSource } = require("@apollo/gateway");
const { ApolloServer } = require("@apollo/server");
const { startStandaloneServer } = require("@apollo/server/standalone");
const { ApolloServerPluginLandingPageDisabled } = require("@apollo/server/plugin/disabled");

const [supergraphPath, port] = process.argv.slice(2);
if (!supergraphPath || !port) {
  process.stderr.write("usage: node bench/apollo_gateway.mjs SUPERGRAPH_FILE PORT\n");
  process.exit(2);
}

class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context.authorization) {
      request.http.headers.set("authorization", context.authorization);
    }
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(supergraphPath, "utf8"),
  buildService: ({ url }) => new ForwardingDataSource({ url }),
});
const server = new ApolloServer({
  gateway,
  plugins: [ApolloServerPluginLandingPageDisabled()],
});
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(port) },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
process.stdout.write(`apollo gateway at ${url}\n`);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.stop().finally(() => process.exit(0)));
}
