"""Chapter probes: trusted functions that turn an object a student returned (a Trainer, a
Dataset, a tokenizer) into plain data inside the worker. ``hfcourse.probes.<module>.PROBES``
maps names to functions; graders ask for them as ``probe="<module>:<name>"``."""
