"""Applications and service conditions (SPEC section 9, Arts. 4-12 and 26).

`conditions` holds the conditions as data, `evaluate` the pure check and verdict, `figures` the service
figures of a certified entity projected to the year; `store`, `importer` and `template` do the I/O.
"""
