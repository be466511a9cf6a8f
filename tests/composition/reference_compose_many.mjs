#!/usr/bin/env node
// Compose many subgraph sets in one Node.js run with the reference composition library
// (@theguild/federation-composition), the oracle of tests/composition.
//
// stdin:  JSON {"<set>": [{"name": "...", "url": "...", "sdl": "..."}, ...], ...}
// stdout: JSON {"<set>": {"supergraph": "..."} | {"errors": ["CODE: message", ...]}, ...}
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";

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
