"""SME Compliance Monitor: enforces the Chengdu Measures for certified SME service platforms and startup bases."""

__version__ = "0.1.0"
