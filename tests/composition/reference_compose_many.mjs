#!/usr/bin/env node
// Compose many subgraph sets in one Node.js run with the reference composition library
// (@theguild/federation-composition), the oracle of tests/composition; with --apollo, with
// Apollo's composition (@apollo/composition, installed with @apollo/gateway), the oracle for
// Federation versions the first does not know yet (v2.10 and later).
//
// stdin:  JSON {"<set>": [{"name": "...", "url": "...", "sdl": "..."}, ...], ...}
// stdout: JSON {"<set>": {"supergraph": "..."} | {"errors": ["CODE: message", ...]}, ...}
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parse } from "graphql";
import * as guild from "@theguild/federation-composition";

const apollo = process.argv.includes("--apollo");
const composeServices = apollo
  ? createRequire(import.meta.url)("@apollo/composition").composeServices
  : guild.composeServices;
const compositionHasErrors = (result) => Boolean(result.errors && result.errors.length);

const input = JSON.parse(readFileSync(0, "utf8"));
const output = {};
for (const [set, subgraphs] of Object.entries(input)) {
  try {
    const services = subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) }));
    const result = composeServices(services);
    if (compositionHasErrors(result)) {
      output[set] = {
        errors: result.errors.map(
          (e) => `${e.extensions?.code ?? "COMPOSITION_ERROR"}: ${e.message.replace(/\n/g, " ")}`,
        ),
      };
    } else {
      output[set] = { supergraph: result.supergraphSdl };
    }
  } catch (err) {
    output[set] = { errors: [`INVALID_INPUT: ${err.message}`] };
  }
}
process.stdout.write(JSON.stringify(output));
