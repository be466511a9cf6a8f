"""The reference subgraphs' data layer: data access, seeds and loaders, not resolvers.

Per subgraph: `store.py` reads and writes its SQLite store and returns plain, typed records;
`seed.py` fills the store deterministically with synthetic data; `loaders.py` builds the
per-request DataLoaders that batch a tick's keys into one SQL statement. The schema (types,
fields, GraphQL errors) lives in `subgraphs`, whose resolvers call in here.

Not free of GraphQL: the DataLoaders are Strawberry's (`strawberry.dataloader`), so the loaders
import Strawberry. Stores and seeds do not, and raise domain errors, not GraphQL errors.
"""
