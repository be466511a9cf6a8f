"""The three reference subgraphs (education, allowances, ticketing): types, federation wiring, apps.

Data access lives in the sibling package `resolvers`; this package only turns its records into
GraphQL types and serves them over HTTP.
"""
