"""The subgraph registry: register, check, remove and roll back subgraphs over a REST API, every
version kept (SQLite or PostgreSQL), each change composed, checked for ownership and breaking
changes, and swapped in on every replica.

service.py    the registry as this replica runs it: seeding, serving the newest supergraph
changes.py    add, update, remove, roll back or check a subgraph; admin_settings.py grants and
              URL patterns (registry:admin); reading.py status, subgraphs and their versions
store.py      the tables and the store interface; sqlite_store.py, postgres_store.py
breaking.py   breaking and dangerous changes between two API schemas
ownership.py  who may change what, and which fields may not be taken from another organisation
routes.py     the REST API; client.py the `rugzak registry` command
url_policy.py which URLs an organisation may register; fetch.py reading an SDL from one safely;
              address_guard.py the same policy on every connection to a registered subgraph
candidate.py  what a change is judged by; worker.py judging it in a limited process of its own
"""
