"""`publisher build`: ontology + data -> quads -> SHACL gate -> dist/ (dumps, VoID, store)."""
