from scc.cli import app

app()
