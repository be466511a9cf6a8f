#!/usr/bin/env node
// Compose subgraph SDLs into a supergraph SDL with the reference composition library
// (@theguild/federation-composition, MIT; version pinned in package.json / package-lock.json).
//
// stdin:  JSON array [{"name": "...", "url": "...", "sdl": "..."}, ...]
// stdout: the supergraph SDL (exit 0)
// stderr: one line per composition error, "CODE: message" (exit 1); bad input exits 2.
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";

function fail(message, code) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let services;
try {
  const input = JSON.parse(readFileSync(0, "utf8"));
  if (!Array.isArray(input) || input.length === 0) {
    throw new Error("expected a non-empty JSON array of {name, url, sdl}");
  }
  services = input.map((entry, index) => {
    const { name, url, sdl } = entry ?? {};
    if (typeof name !== "string" || typeof sdl !== "string") {
      throw new Error(`entry ${index}: "name" and "sdl" must be strings`);
    }
    let typeDefs;
    try {
      typeDefs = parse(sdl);
    } catch (err) {
      throw new Error(`subgraph ${name}: SDL does not parse: ${err.message}`);
    }
    return { name, url: typeof url === "string" ? url : undefined, typeDefs };
  });
} catch (err) {
  fail(`INVALID_INPUT: ${err.message}`, 2);
}

const result = composeServices(services);
if (compositionHasErrors(result)) {
  for (const error of result.errors) {
    const code = error.extensions?.code ?? "COMPOSITION_ERROR";
    process.stderr.write(`${code}: ${error.message.replace(/\n/g, " ")}\n`);
  }
  process.exit(1);
}
process.stdout.write(result.supergraphSdl.endsWith("\n") ? result.supergraphSdl : `${result.supergraphSdl}\n`);
