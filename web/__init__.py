"""The web face of the monitor (`sme-monitor serve`): the public registry (Art. 16), its API, and the console."""
