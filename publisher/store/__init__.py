"""Stores behind one interface (base.Store): embedded Oxigraph or a remote SPARQL endpoint."""
